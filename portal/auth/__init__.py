"""Accounts, sign-in, sessions and grants."""
