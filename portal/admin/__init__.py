"""Organisation administration: people, invitations, their roles, and the audit trail."""
