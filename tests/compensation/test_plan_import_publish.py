"""`manage.py plan_import --publish`: a plan document imported and published from the command
line through the admin's publish service, all or nothing, errors naming the document."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from compensation.models import AssignmentPeriod, PlanVersion, VersionStatus
from compensation.plan_documents import dump_plan
from compensation.services import assignment_create
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory

from .samples import AE_PLAN, BROKEN_DOCUMENT

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

DOCUMENT = dump_plan(AE_PLAN)


def run(tenant, path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("plan_import", str(path), "--tenant", tenant.slug, *args, stdout=out,
                 stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "ae-2026.yaml"
    path.write_text(DOCUMENT, encoding="utf-8")
    return path


def test_publish_imports_and_publishes_the_version_saying_what_it_did(tenant_a, document):
    out, _ = run(tenant_a, document, "--valid-from", "2026-01-01", "--publish")
    assert "Created draft AE-2026 v1 from ae-2026.yaml." in out
    assert "Published AE-2026 v1, in force from 2026-01-01." in out
    with tenant_context(tenant_a):
        version = PlanVersion.objects.get()
        assert version.status == VersionStatus.PUBLISHED
        assert version.document == DOCUMENT
        assert len(version.fingerprint) == 64


def test_publishing_a_successor_ends_the_open_version_and_rebuilds_assignment_shares(
        tenant_a, document):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
    run(tenant_a, document, "--valid-from", "2026-01-01", "--publish")
    with tenant_context(tenant_a):
        first = PlanVersion.objects.get()
        assignment_create(person=PersonFactory(), plan=first.plan,
                          valid_from=datetime.date(2026, 1, 1))
    out, _ = run(tenant_a, document, "--valid-from", "2026-07-01", "--publish")
    assert "Published AE-2026 v2, in force from 2026-07-01." in out
    assert "Ended AE-2026 v1: its last day in force is 2026-06-30, the day before " \
           "AE-2026 v2 starts." in out
    with tenant_context(tenant_a):
        first.refresh_from_db()
        assert first.valid_to == datetime.date(2026, 7, 1)
        july = AssignmentPeriod.objects.filter(period__start_date=datetime.date(2026, 7, 1))
        assert [share.version.number for share in july] == [2]


def test_without_publish_the_version_stays_a_draft_and_file_works_as_before(tenant_a,
                                                                           document):
    out = io.StringIO()
    call_command("plan_import", tenant=tenant_a.slug, file=str(document), stdout=out)
    assert "Created draft AE-2026 v1" in out.getvalue()
    assert "Published" not in out.getvalue()
    with tenant_context(tenant_a):
        assert PlanVersion.objects.get().status == VersionStatus.DRAFT


def test_publish_without_a_first_day_saves_nothing_and_says_which_option_is_missing(
        tenant_a, document):
    with pytest.raises(CommandError) as caught:
        run(tenant_a, document, "--publish")
    assert caught.value.returncode == 1
    assert f"1 problem(s) in {document}; nothing was saved." == str(caught.value)
    with tenant_context(tenant_a):
        assert not PlanVersion.objects.exists()


def test_a_publish_refused_for_overlapping_dates_keeps_no_draft_and_names_the_document(
        tenant_a, document):
    run(tenant_a, document, "--valid-from", "2026-01-01", "--publish")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("plan_import", str(document), tenant=tenant_a.slug,
                     valid_from=datetime.date(2025, 6, 1), publish=True, stderr=err)
    assert err.getvalue().startswith(f"{document}: valid_from: AE-2026 v1 is in force from "
                                     "2026-01-01")
    with tenant_context(tenant_a):
        assert PlanVersion.objects.count() == 1


def test_a_broken_document_lists_each_problem_prefixed_with_its_file(tenant_a, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_DOCUMENT, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("plan_import", str(path), tenant=tenant_a.slug, publish=True,
                     valid_from=datetime.date(2026, 1, 1), stderr=err)
    assert f"{path}: components[0].tiers[1].rate: must be ≥ 0" in err.getvalue().splitlines()


def test_the_file_is_given_once(tenant_a, document):
    with pytest.raises(CommandError, match="Give the plan document once"):
        call_command("plan_import", str(document), tenant=tenant_a.slug, file=str(document))
    with pytest.raises(CommandError, match="Give the plan document once"):
        call_command("plan_import", tenant=tenant_a.slug)


def test_the_help_explains_publish(capsys):
    with pytest.raises(SystemExit):
        call_command("plan_import", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "--publish" in text
    assert "Publish the new version after importing it (needs --valid-from)" in text
