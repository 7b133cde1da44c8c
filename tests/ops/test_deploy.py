"""Production readiness: deploy checks pass, settings refuse to run insecurely, and the
docker-compose stack and docs describe the same processes and environment."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from .conftest import clean_env, run_python

pytestmark = pytest.mark.smoke

ROOT = Path(settings.BASE_DIR)
APP_SERVICES = ("migrate", "web", "worker", "beat")
DB_USER = re.compile(r"^postgres://([^:@/]+)[:@]")
ENV_READ = re.compile(r'(?:environ\.get|environ\[|env_bool|env_list)\(?\s*"([A-Z][A-Z0-9_]*)"')


def production_env(**extra: str) -> dict[str, str]:
    return clean_env(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="spm.example.com",
        **extra,
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_check_deploy_reports_nothing_under_production_settings():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_settings_turn_on_secure_cookies_hsts_and_https_redirect():
    script = (
        "from django.conf import settings as s\n"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.DEBUG)\n"
    )
    result = run_python(["-c", script], production_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "False"]


def test_settings_refuse_to_start_with_debug_off_and_no_secret_key():
    result = run_python(["-c", "import django; django.setup()"], clean_env(DEBUG="0"))

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_manage_py_says_in_one_line_what_to_set_when_settings_are_incomplete():
    result = run_python(["manage.py", "check"], clean_env(DEBUG="0"))

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "DEBUG=1" in result.stderr
    assert "Traceback" not in result.stderr


def test_compose_runs_every_process_the_design_names(compose):
    assert set(compose["services"]) >= {"postgres", "redis", *APP_SERVICES}


def test_every_app_service_runs_the_same_image_with_the_same_env_file(compose):
    services = compose["services"]
    first = services[APP_SERVICES[0]]
    for name in APP_SERVICES:
        assert services[name]["image"] == first["image"], name
        assert services[name]["build"] == first["build"], name
        assert services[name]["env_file"] == first["env_file"], name


def test_only_migrate_connects_as_the_owner_everything_else_as_the_app_role(compose):
    services = compose["services"]
    users = {name: DB_USER.match(services[name]["environment"]["DATABASE_URL"])[1]
             for name in APP_SERVICES}  # fmt: skip
    assert users == {"migrate": "spm_owner", "web": "spm_app", "worker": "spm_app",
                     "beat": "spm_app"}  # fmt: skip
    for name in APP_SERVICES:
        environment = dict(services[name]["environment"])
        environment.pop("DATABASE_URL")
        assert environment == {
            k: v for k, v in services["web"]["environment"].items() if k != "DATABASE_URL"
        }, name
        assert environment["DATABASE_APP_ROLE"] == "spm_app"
        assert environment["DEBUG"] == "0"


def test_web_worker_and_beat_start_only_after_migrate_has_finished(compose):
    for name in ("web", "worker", "beat"):
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert "migrate" not in compose["services"]["migrate"]["depends_on"]


def test_each_service_runs_its_own_command(compose):
    services = compose["services"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["web"]["command"][:2] == ["gunicorn", "spm.wsgi"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "spm", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "spm", "beat"]


def test_postgres_creates_the_roles_from_the_repositorys_script(compose):
    mounts = [m.split(":") for m in compose["services"]["postgres"]["volumes"]]
    init = {
        target: source for source, target, *_ in mounts if "docker-entrypoint-initdb.d" in target
    }

    # The entrypoint runs them in name order: roles first, then their passwords.
    ordered = [init[target] for target in sorted(init)]
    assert ordered == ["./scripts/pg_roles.sql", "./scripts/docker-pg-passwords.sh"]
    for source in ordered:
        assert (ROOT / source).is_file(), source


def test_the_image_is_python_311_slim_installed_against_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert "pip install -c requirements.lock ." in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", ".env", "db.sqlite3*"} <= ignored


def test_deploy_docs_describe_every_environment_variable_the_settings_read():
    names = set(ENV_READ.findall((ROOT / "spm" / "settings.py").read_text()))
    docs = (ROOT / "docs" / "deploy.md").read_text()

    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= names
    assert sorted(name for name in names if f"`{name}`" not in docs) == []
