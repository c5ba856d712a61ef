"""Measures and equality data, and the community profile they are compared with."""
