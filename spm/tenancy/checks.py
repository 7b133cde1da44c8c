"""System checks that keep the tenancy rules from drifting as models are added."""

from __future__ import annotations

from django.apps import apps
from django.core import checks
from django.db import DatabaseError

from .rls import is_tenant_model, missing_policies

# Platform-level tables that carry a tenant FK but are read before a tenant is active.
PLATFORM_MODELS_WITH_TENANT = {"tenancy.membership", "tenancy.apikey"}


@checks.register(checks.Tags.models)
def check_tenant_foreign_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for model in apps.get_models():
        label = model._meta.label_lower
        has_tenant_fk = any(
            f.is_relation and isinstance(f.related_model, type)
            and f.related_model._meta.label_lower
            == "tenancy.tenant"
            for f in model._meta.concrete_fields
        )
        exempt = label in PLATFORM_MODELS_WITH_TENANT
        if has_tenant_fk and not exempt and not is_tenant_model(model):
            errors.append(
                checks.Error(
                    f"{label} has a tenant foreign key but does not inherit TenantModel.",
                    hint="Inherit spm.tenancy.models.TenantModel so it is scoped and under RLS.",
                    obj=model,
                    id="spm.E001",
                )
            )
    return errors


@checks.register(checks.Tags.database, deploy=True)
def check_rls_policies(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    if not databases or "default" not in databases:
        return []
    try:
        missing = missing_policies("default")
    except DatabaseError:
        return []
    return [
        checks.Error(
            f"Tenant table {table} has no forced row-level security policy.",
            hint="Run `manage.py migrate` as the owner role; it installs the policies.",
            id="spm.E002",
        )
        for table in missing
    ]
