"""Benchmarks: ``make bench`` prints figures and ratios. Never part of the test suite."""
