"""Choices made when a file is uploaded, kept on its batch so that applying checks the file exactly
as the preview did."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImportOptions:
    # Deals: an account named in the file that does not exist yet is created (from its name).
    create_accounts: bool = False
    # People: the day team changes from the manager column take effect (None: the tenant's today).
    effective_date: datetime.date | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.create_accounts:
            out["create_accounts"] = True
        if self.effective_date is not None:
            out["effective_date"] = self.effective_date.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ImportOptions:
        data = data or {}
        day = data.get("effective_date")
        return cls(
            create_accounts=bool(data.get("create_accounts")),
            effective_date=datetime.date.fromisoformat(day) if day else None,
        )
