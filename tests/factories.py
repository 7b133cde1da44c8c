"""factory_boy factories. Tenant-owned factories need an active tenant (tenant_context)."""

from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from spm.org.models import Person
from spm.tenancy.models import Membership, Role, Tenant

PASSWORD = "correct horse battery staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    currency = "USD"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.REP


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    employee_id = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda o: f"{o.employee_id.lower()}@example.com")
    hire_date = datetime.date(2024, 1, 1)
