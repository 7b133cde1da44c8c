"""Tenants, memberships and roles, the active-tenant context, and both walls of isolation."""
