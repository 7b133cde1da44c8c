"""The bulk upsert behind each import kind: one keyed, batched write per kind.

The writes themselves are the services of spm.org (people, keyed by employee id) and spm.crm
(accounts, deals, leads, activities, keyed by external id), which the REST API calls as well, so
a file and an API push of the same rows end in the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spm.crm.services import (
    UpsertResult,
    accounts_upsert,
    activities_upsert,
    deals_upsert,
    leads_upsert,
)
from spm.org.services import people_upsert

Upsert = Callable[..., UpsertResult]

UPSERTS: Mapping[str, Upsert] = {
    "people": people_upsert,
    "accounts": accounts_upsert,
    "deals": deals_upsert,
    "leads": leads_upsert,
    "activities": activities_upsert,
}


def upsert_for(kind: str) -> Upsert:
    return UPSERTS[kind]


def upsert_rows(*, kind: str, rows: Sequence[Mapping[str, Any]], actor: Any = None) -> UpsertResult:
    """Create or update `rows` of `kind` by their key; every row is written or none."""
    return UPSERTS[kind](rows=rows, actor=actor)
