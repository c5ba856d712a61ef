"""Dashboards: the partnership lead's home, and the public equality pages' figures."""
