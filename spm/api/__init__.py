"""The REST API for CRMs and other systems: per-tenant API keys, CRM facts in and out."""
