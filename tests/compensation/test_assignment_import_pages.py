"""The plan assignment import pages: an admin uploads, reads each row's outcome and every
problem, then applies it whole; finance, managers and reps are refused; members of other
tenants get 404 on every URL; a bad upload gets a message on the form, never a 500."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from compensation.imports.service import assignment_import_preview
from compensation.models import AssignmentImport, PlanAssignment
from compensation.services import assignment_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse

from .assignment_import_world import JAN, JUL, build_import_world, held

pytestmark = pytest.mark.django_db

D = Decimal
GOOD = (b"Employee ID,Plan,Start Date,End Date,Target Incentive,Currency\r\n"
        b"E100,AE,2026-01-01,,\"60,000.00\",USD\r\n"
        b"bob.ray@example.com,AE,01/01/2026,06/30/2026,48000,\r\n")


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        return build_import_world()


@pytest.fixture(autouse=True)
def recomputes(monkeypatch):
    """Recompute requests, recorded instead of sent (the runs have tests of their own)."""
    asked: list[int] = []
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr("compensation.tasks.recompute_pending.apply_async",
                        lambda kwargs, countdown=None, **options: asked.append(
                            kwargs["tenant_id"]))
    return asked


@pytest.fixture
def admin_client(admin_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    return client


def upload(client, tenant, content: bytes, name: str = "assignments.csv"):
    return client.post(tenant_reverse(tenant, "compensation:assignment-import"),
                       {"file": SimpleUploadedFile(name, content)})


def url(tenant, name: str, batch: AssignmentImport) -> str:
    return tenant_reverse(tenant, f"compensation:{name}", batch_id=batch.pk)


def apply(client, tenant, batch, on_commit):
    """Confirm the batch; the write runs once the request's transaction commits."""
    with on_commit(execute=True):
        response = client.post(url(tenant, "assignment-import-apply", batch))
    assert response.status_code == 302
    return client.get(response["Location"])


def latest(tenant) -> AssignmentImport:
    with tenant_context(tenant):
        return AssignmentImport.objects.order_by("-pk").first()


@pytest.mark.smoke
def test_an_admin_uploads_previews_and_applies_an_assignments_file(
        tenant_a, world, admin_client, eager_tasks, django_capture_on_commit_callbacks,
        recomputes):
    response = upload(admin_client, tenant_a, GOOD)
    assert response.status_code == 302
    batch = latest(tenant_a)
    assert response["Location"] == url(tenant_a, "assignment-import-batch", batch)
    with tenant_context(tenant_a):
        assert not PlanAssignment.objects.exists()

    page = admin_client.get(response["Location"]).content.decode()
    assert "No problems found." in page
    assert "Applying will create 2 assignments (ending 0 earlier ones), change 0 end dates " \
           "and leave 0 unchanged." in page
    assert 'data-row="2" data-outcome="create"' in page
    assert "Ann Lee (E100)" in page
    assert "60000.00" in page
    assert "2026-06-30" in page  # Bob's last day, as the file gave it

    applied = apply(admin_client, tenant_a, batch, django_capture_on_commit_callbacks)
    assert "2 created (0 earlier assignments ended), 0 end dates changed, 0 unchanged." \
        in applied.content.decode()
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, None, D("60000.00"))]
        assert held(world.bob) == [("AE", JAN, JUL, D("48000.00"))]
        assert PlanAssignment.objects.get(person=world.ann).history.get().history_user \
            .username == "admin_a"
    assert recomputes == [tenant_a.pk]

    upload(admin_client, tenant_a, GOOD)
    again = latest(tenant_a)
    page = admin_client.get(url(tenant_a, "assignment-import-batch", again)).content.decode()
    assert "create 0 assignments (ending 0 earlier ones), change 0 end dates and leave 2 " \
           "unchanged" in page
    reapplied = apply(admin_client, tenant_a, again, django_capture_on_commit_callbacks)
    assert "0 created (0 earlier assignments ended), 0 end dates changed, 2 unchanged." \
        in reapplied.content.decode()
    assert recomputes == [tenant_a.pk]  # nothing changed, nothing to recompute


def test_the_preview_shows_an_earlier_assignment_being_ended(tenant_a, world, admin_client,
                                                             eager_tasks,
                                                             django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        assignment_create(person=world.ann, plan=world.ae, valid_from=JAN,
                          target_incentive=D("60000.00"))
    upload(admin_client, tenant_a, b"Email,Plan Code,Effective Date,TI\n"
                                   b"ann@example.com,SE,2026-07-01,70000\n")
    batch = latest(tenant_a)
    page = admin_client.get(url(tenant_a, "assignment-import-batch", batch)).content.decode()
    assert 'data-row="2" data-outcome="end previous"' in page
    assert "ends AE from 2026-01-01 with no end: its last day becomes 2026-06-30" in page
    apply(admin_client, tenant_a, batch, django_capture_on_commit_callbacks)
    with tenant_context(tenant_a):
        assert held(world.ann) == [("AE", JAN, JUL, D("60000.00")),
                                   ("SE", JUL, None, D("70000.00"))]


def test_the_preview_lists_each_problem_by_row_and_column_and_offers_no_apply(
        tenant_a, world, admin_client):
    upload(admin_client, tenant_a, GOOD + b"E999,NOPE,2026-13-01,,ten,EUR\r\n")
    batch = latest(tenant_a)
    assert batch.status == "failed"
    page = admin_client.get(url(tenant_a, "assignment-import-batch", batch)).content.decode()
    assert "data-import-apply" not in page
    assert "Nothing was imported." in page
    assert 'data-row="4" data-outcome="error"' in page
    for column, reason in [
        ("Employee ID", "unknown person: nobody has the employee ID &#x27;E999&#x27;"),
        ("Plan", "unknown plan: no plan has the code &#x27;NOPE&#x27;"),
        ("Start Date", "&#x27;2026-13-01&#x27; is not a date"),
        ("Target Incentive", "&#x27;ten&#x27; is not a number"),
        ("Currency", "&#x27;EUR&#x27; is not USD"),
    ]:
        assert f"<tr><td>4</td><td>{column}</td><td class=\"text-break\">{reason}" in page

    report = admin_client.get(url(tenant_a, "assignment-import-errors", batch))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    lines = report.content.decode().splitlines()
    assert lines[0] == "row,column,reason,value"
    assert lines[1].startswith("4,Employee ID,unknown person")
    with tenant_context(tenant_a):
        assert not PlanAssignment.objects.exists()


def test_an_error_found_only_when_applying_writes_nothing_of_the_file(
        tenant_a, world, admin_client, eager_tasks, django_capture_on_commit_callbacks):
    """The file is re-checked when applied: an assignment given meanwhile makes its last row
    overlap, and none of the rows before it is written."""
    upload(admin_client, tenant_a, GOOD + b"e300,AE,2026-01-01,,1,\r\n")
    batch = latest(tenant_a)
    with tenant_context(tenant_a):
        assignment_create(person=world.cy, plan=world.ae, valid_from=datetime.date(2026, 3, 1))
    page = apply(admin_client, tenant_a, batch, django_capture_on_commit_callbacks)
    text = page.content.decode()
    assert "Nothing was imported." in text
    assert "has no end, but the person is on AE from 2026-03-01 with no end" in text
    with tenant_context(tenant_a):
        assert PlanAssignment.objects.count() == 1  # Cy's, given meanwhile
        assert latest(tenant_a).status == "failed"


def test_a_confirmed_import_shows_it_is_applying_and_is_sent_to_the_worker_once(
        tenant_a, world, admin_client, django_capture_on_commit_callbacks):
    upload(admin_client, tenant_a, GOOD)
    batch = latest(tenant_a)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        admin_client.post(url(tenant_a, "assignment-import-apply", batch))
        admin_client.post(url(tenant_a, "assignment-import-apply", batch))  # a double click
    assert len(sent) == 1
    page = admin_client.get(url(tenant_a, "assignment-import-batch", batch)).content.decode()
    assert "data-import-applying" in page
    assert '<meta http-equiv="refresh" content="2">' in page
    with tenant_context(tenant_a):
        assert not PlanAssignment.objects.exists()


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"", "a.csv", "The submitted file is empty."),
    (b"Employee ID,Plan\n", "a.csv", "The file has a header row but no data rows."),
    (b"PK\x03\x04junk", "a.xlsx", "not an .xlsx workbook"),
    (b"x", "a.pdf", "Upload a .csv or .xlsx file"),
])
def test_an_unusable_file_gets_a_message_on_the_form(tenant_a, world, admin_client, content,
                                                     name, message):
    response = upload(admin_client, tenant_a, content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(tenant_a):
        assert not AssignmentImport.objects.exists()


def test_the_upload_page_lists_the_accepted_headers_and_recent_imports(tenant_a, world,
                                                                       admin_client):
    upload(admin_client, tenant_a, GOOD)
    page = admin_client.get(tenant_reverse(tenant_a, "compensation:assignment-import"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Target Incentive, TI, Annual Target Incentive" in text
    assert "OTE Variable" in text
    assert "assignments.csv" in text
    assert "admin_a" in text


def test_admins_reach_the_page_from_the_navigation_and_others_do_not(tenant_a, world,
                                                                     admin_client,
                                                                     make_member):
    home = tenant_reverse(tenant_a, "tenant-home")
    assert b"data-nav-assignment-import" in admin_client.get(home).content
    for role in (Role.FINANCE, Role.MANAGER, Role.REP):
        client = Client()
        client.force_login(make_member(tenant_a, role))
        assert b"data-nav-assignment-import" not in client.get(home).content


# -- who may -------------------------------------------------------------------------------------


@pytest.fixture
def batch_a(tenant_a, world):
    with tenant_context(tenant_a):
        return assignment_import_preview(content=GOOD, file_name="assignments.csv")


def every_url(tenant, batch) -> list[tuple[str, str]]:
    return [("get", tenant_reverse(tenant, "compensation:assignment-import")),
            ("post", tenant_reverse(tenant, "compensation:assignment-import")),
            ("get", url(tenant, "assignment-import-batch", batch)),
            ("post", url(tenant, "assignment-import-apply", batch)),
            ("get", url(tenant, "assignment-import-errors", batch))]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MANAGER, Role.REP])
def test_finance_managers_and_reps_are_refused_on_every_url(tenant_a, make_member, batch_a,
                                                            role):
    client = Client(raise_request_exception=False)
    client.force_login(make_member(tenant_a, role))
    for method, address in every_url(tenant_a, batch_a):
        assert getattr(client, method)(address).status_code == 403, address
    assert latest(tenant_a).status == "previewed"


def test_an_admin_of_another_tenant_gets_404_on_every_url(tenant_a, admin_b, batch_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_b)
    for method, address in every_url(tenant_a, batch_a):
        assert getattr(client, method)(address).status_code == 404, address
    assert latest(tenant_a).status == "previewed"


def test_another_tenants_batch_is_404_under_ones_own_slug(tenant_b, admin_b, batch_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_b)
    for name in ("assignment-import-batch", "assignment-import-errors"):
        assert client.get(url(tenant_b, name, batch_a)).status_code == 404
    assert client.post(url(tenant_b, "assignment-import-apply", batch_a)).status_code == 404


def test_the_pages_take_a_fixed_number_of_queries_however_many_imports_and_rows(
        tenant_a, world, admin_client, django_assert_max_num_queries):
    rows = b"".join(f"E{n},AE,2026-01-01,,1,\r\n".encode() for n in range(40))
    for _ in range(5):
        upload(admin_client, tenant_a, GOOD + rows)
    batch = latest(tenant_a)
    with django_assert_max_num_queries(12):
        assert admin_client.get(
            tenant_reverse(tenant_a, "compensation:assignment-import")).status_code == 200
    with django_assert_max_num_queries(12):
        assert admin_client.get(url(tenant_a, "assignment-import-batch", batch)).status_code \
            == 200
