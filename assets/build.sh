#!/usr/bin/env bash
# Rebuild portal/static/govuk/ from the pinned govuk-frontend (needs Node and npm).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund 2>/dev/null || npm install --no-audit --no-fund
out=../portal/static/govuk
mkdir -p "$out"
npm run --silent build
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$out/govuk-frontend.min.js"
echo "govuk-frontend $(node -p "require('govuk-frontend/package.json').version")" > "$out/VERSION"
echo "built $out/portal.css ($(wc -c < "$out/portal.css") bytes)"
