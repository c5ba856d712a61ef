"""Dashboards: the pages that show an organisation or a partnership at a glance, and the
public equality pages' figures."""
