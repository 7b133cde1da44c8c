"""The import's background job: write a confirmed batch outside the web request.

A 100,000-row file takes longer to write than a web worker may spend on one request, so the
page only marks the batch as applying and this task writes it; the batch page polls until done.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model

from spm.crm.models import ImportBatch, ImportStatus
from spm.tasks import TRANSIENT_ERRORS, tenant_task

from .service import WHOLE_FILE, import_apply, import_fail

logger = logging.getLogger(__name__)


# Idempotent: the batch's status is checked under a row lock and the write is all or nothing, so
# a rerun after a lost worker either finds the batch still applying and writes it, or finds it
# done and returns.
@tenant_task(name="spm.crm.import_apply", idempotent=True, soft_time_limit=1500, time_limit=1800)
def import_apply_task(batch_id: int, actor_id: int | None = None, *, tenant: Any) -> str | None:
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status != ImportStatus.APPLYING:
        return None
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        return import_apply(batch=batch, actor=actor).status
    except TRANSIENT_ERRORS:
        raise  # retried by the task base, with backoff
    except Exception:
        # A bug, not the file: the write was rolled back with its savepoint; say so on the batch
        # rather than leave it applying for ever.
        logger.exception("import batch %s could not be applied", batch_id)
        import_fail(
            batch=batch,
            row=WHOLE_FILE,
            reason="The import stopped on an unexpected error; nothing was written. The error "
            "has been logged for the operators.",
        )
        return ImportStatus.FAILED
