"""Comp plans, crediting, the calculation engine, statements, payouts and disputes."""
