"""Fixtures for territory tests: a small tree (region, two territories) in tenant A."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from spm.tenancy.context import tenant_context
from territories.models import Territory, TerritoryLevel
from territories.services import territory_create

JAN = datetime.date(2025, 1, 1)
APR = datetime.date(2025, 4, 1)
JUL = datetime.date(2025, 7, 1)


@dataclass
class Tree:
    west: Territory
    north: Territory
    south: Territory


@pytest.fixture
def tree(tenant_a) -> Tree:
    with tenant_context(tenant_a):
        west = territory_create(name="West", level=TerritoryLevel.REGION)
        north = territory_create(name="West North", parent=west)
        south = territory_create(name="West South", parent=west)
    return Tree(west=west, north=north, south=south)
