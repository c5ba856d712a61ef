"""Start page, choosing where to work, tenant and partnership home pages, and the site pages."""
