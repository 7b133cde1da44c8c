"""The assignment import's background job: write a confirmed batch outside the web request.

Each row goes through the assignment services (checks, history, month shares), which takes
longer for a whole sales force than a web worker may spend on one request; the page marks the
batch applying and polls until this task is done.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model

from compensation.models import AssignmentImport
from spm.crm.models import ImportStatus
from spm.tasks import TRANSIENT_ERRORS, tenant_task

from .service import assignment_import_apply, assignment_import_fail

logger = logging.getLogger(__name__)


# Idempotent: the batch's status is checked under a row lock and the write is all or nothing, so
# a rerun after a lost worker either finds the batch still applying and writes it, or finds it
# done and returns.
@tenant_task(name="compensation.assignment_import_apply", idempotent=True, soft_time_limit=1500,
             time_limit=1800)
def assignment_import_apply_task(batch_id: int, actor_id: int | None = None, *,
                                 tenant: Any) -> str | None:
    batch = AssignmentImport.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.APPLYING:
        return None
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return assignment_import_apply(batch=batch, actor=actor).status
    except TRANSIENT_ERRORS:
        raise  # retried by the task base, with backoff
    except Exception:
        # A bug, not the file: the write was rolled back with its savepoint; say so on the batch
        # rather than leave it applying for ever.
        logger.exception("assignment import %s could not be applied", batch_id)
        assignment_import_fail(batch=batch, reason=(
            "The import stopped on an unexpected error; nothing was written. The error has "
            "been logged for the operators."))
        return ImportStatus.FAILED
