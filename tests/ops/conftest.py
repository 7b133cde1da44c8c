"""Ops fixtures: eager Celery whatever the environment, and clean subprocess environments."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from spm.celery import app as celery_app

# Variables a developer's shell or `make test` may carry that would change what a subprocess
# under test configures; each test states the ones it means.
_SETTINGS_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SPM_TESTING",
    "SPM_TEST_DB",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "SECURE_HSTS_PRELOAD",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_ENV}
    env["DJANGO_SETTINGS_MODULE"] = "spm.settings"
    env.update(values)
    return env


def run_python(args: list[str], env: dict[str, str], timeout: int = 120):
    return subprocess.run(  # noqa: S603  (our own interpreter, fixed arguments)
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def eager_tasks():
    """Run tasks in-process, as the embedded (no REDIS_URL) setup does."""
    from tests.ops import tasks_for_test

    keys = ("task_always_eager", "task_eager_propagates")
    before = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(dict.fromkeys(keys, True))
    tasks_for_test.attempts.clear()
    tasks_for_test.seen.clear()
    yield tasks_for_test
    celery_app.conf.update(before)
