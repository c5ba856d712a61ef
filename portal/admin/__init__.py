"""Tenant administration: people, their roles, and the audit trail."""
