"""Signals other apps listen to without spm.crm importing them (the layers point one way)."""

from django.dispatch import Signal

#: Sent once deals created or changed in bulk (by the API, an import or a script) have committed,
#: never for a write that rolls back; keyword arguments: tenant, created, updated, deal_ids.
deals_changed = Signal()
