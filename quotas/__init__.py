"""Quota plans, allocation, seasonality, ramp and attainment."""
