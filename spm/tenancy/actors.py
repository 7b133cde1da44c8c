"""Who a change is recorded against: the signed-in user, or nobody when the system acts."""

from __future__ import annotations

from typing import Any


def acting_user(actor: Any) -> Any:
    """`actor` when it is a signed-in user, else None (a task, the system or an anonymous visitor).

    Services take whatever the caller has (request.user, a user, None) and record changes through
    this, so an AnonymousUser never reaches a foreign key or the history.
    """
    return actor if getattr(actor, "is_authenticated", False) else None
