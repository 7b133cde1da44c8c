"""Signals other apps listen to without spm.crm importing them (the layers point one way)."""

from django.dispatch import Signal

#: Sent after deals were created or changed (by the API, an import or a script), on the
#: sender's transaction; keyword arguments: tenant, created, updated.
deals_changed = Signal()
