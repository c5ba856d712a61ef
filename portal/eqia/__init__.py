"""Equality impact assessments: each organisation's register, joint assessments, publication."""
