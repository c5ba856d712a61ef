"""Partnerships and the organisations (tenants) that belong to them."""
