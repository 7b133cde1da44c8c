"""The Celery app. Broker from REDIS_URL; without it tasks run eagerly (see settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spm.settings")

app = Celery("spm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
