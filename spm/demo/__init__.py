"""Realistic demo data for a tenant (`manage.py seed_demo`), built as a list of steps."""
