"""Import pages: an admin uploads, reads the preview and applies; reps get 403 and members of
other tenants 404 on every import URL; bad uploads get a message on the form, never a 500."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from spm.celery import app as celery_app
from spm.crm.imports.service import import_preview
from spm.crm.models import Account, Deal, ImportBatch, ImportStatus, Stage, StageMapping
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import AccountFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

DEALS_CSV = (
    b"Opportunity ID,Opportunity Name,Account ID,Amount,Close Date,Stage,Opportunity Owner\r\n"
    b"006A,Initech renewal,ACC-1,\"$12,500.00\",3/31/2026,Prospecting,E100\r\n"
    b"006B,Globex expansion,ACC-1,900,2026-04-15,Closed Won,ana@example.com\r\n"
)


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        StageFactory(name="Prospecting", order=1, default_probability=Decimal("10"))
        StageFactory(name="Closed Won", order=2, default_probability=Decimal("100"),
                     is_won=True, forecast_category="closed")
        PersonFactory(employee_id="E100", name="Ana Silva", email="ana@example.com")
        AccountFactory(external_id="ACC-1", name="Initech")


@pytest.fixture(autouse=True)
def eager_tasks():
    """Run the apply task in-process, as the embedded (no REDIS_URL) setup does."""
    keys = ("task_always_eager", "task_eager_propagates")
    before = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(dict.fromkeys(keys, True))
    yield
    celery_app.conf.update(before)


@pytest.fixture
def admin_client(admin_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    return client


def upload(client, tenant, content: bytes, name: str = "opps.csv", kind: str = "deals",
           **extra):
    return client.post(
        tenant_reverse(tenant, "imports:upload", kind=kind),
        {"file": SimpleUploadedFile(name, content), **extra},
    )


def batch_url(tenant, name: str, batch: ImportBatch) -> str:
    return tenant_reverse(tenant, name, batch_id=batch.pk)


def apply(client, tenant, batch, on_commit):
    """Confirm the batch; the write runs once the request's transaction commits."""
    with on_commit(execute=True):
        response = client.post(batch_url(tenant, "imports:apply", batch))
    assert response.status_code == 302
    return client.get(response["Location"])


@pytest.mark.smoke
def test_an_admin_uploads_previews_and_applies_a_deals_file(
    tenant_a, world, admin_client, django_capture_on_commit_callbacks
):
    response = upload(admin_client, tenant_a, DEALS_CSV)
    assert response.status_code == 302
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
        assert Deal.objects.count() == 0
    assert response["Location"] == batch_url(tenant_a, "imports:batch", batch)

    page = admin_client.get(response["Location"])
    assert page.status_code == 200
    assert b"No problems found." in page.content
    assert b"Applying will create 2, update 0 and leave 0 unchanged" in page.content
    assert b"12500.00" in page.content  # the parsed amount, not the text of the file

    applied = apply(admin_client, tenant_a, batch, django_capture_on_commit_callbacks)
    assert b"2 created, 0 updated, 0 unchanged." in applied.content
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 2

    again = upload(admin_client, tenant_a, DEALS_CSV)
    with tenant_context(tenant_a):
        second = ImportBatch.objects.exclude(pk=batch.pk).get()
    assert again["Location"] == batch_url(tenant_a, "imports:batch", second)
    reapplied = apply(admin_client, tenant_a, second, django_capture_on_commit_callbacks)
    assert b"0 created, 0 updated, 2 unchanged." in reapplied.content


def test_a_confirmed_import_shows_it_is_applying_and_is_sent_to_the_worker_once(
    tenant_a, world, admin_client, django_capture_on_commit_callbacks
):
    upload(admin_client, tenant_a, DEALS_CSV)
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as sent:
        admin_client.post(batch_url(tenant_a, "imports:apply", batch))
        admin_client.post(batch_url(tenant_a, "imports:apply", batch))  # a double click
    assert len(sent) == 1
    page = admin_client.get(batch_url(tenant_a, "imports:batch", batch))
    assert b"data-import-applying" in page.content
    assert b'<meta http-equiv="refresh" content="2">' in page.content
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 0


def test_the_preview_page_lists_each_problem_and_offers_no_apply(tenant_a, world, admin_client):
    content = DEALS_CSV + b"006C,,ACC-1,-5,2026-13-01,Nope,E999\r\n"
    response = upload(admin_client, tenant_a, content)
    page = admin_client.get(response["Location"])
    text = page.content.decode()
    assert "Problems (4)" in text
    for reason in ("cannot be negative", "&#x27;2026-13-01&#x27; is not a date",
                   "unknown stage &#x27;Nope&#x27;", "unknown person"):
        assert reason in text
    assert "data-import-apply" not in text
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    refused = admin_client.post(batch_url(tenant_a, "imports:apply", batch), follow=True)
    assert b"failed already" in refused.content
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 0


def test_the_error_report_downloads_as_csv_with_formulas_neutralised(tenant_a, world,
                                                                      admin_client):
    content = DEALS_CSV + b'006C,,ACC-1,"=CMD(""calc"")",2026-01-01,Prospecting,E100\r\n'
    response = upload(admin_client, tenant_a, content)
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    assert response.status_code == 302
    report = admin_client.get(batch_url(tenant_a, "imports:errors-csv", batch))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    lines = report.content.decode().splitlines()
    assert lines[0] == "row,column,reason,value"
    assert lines[1].startswith("4,Amount,")
    assert lines[1].endswith(",\"'=CMD(\"\"calc\"\")\"")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "opps.csv", "This is a binary file"),
        (b"Opportunity ID,Amount\r\n", "opps.csv", "a header row but no data rows"),
        (b"", "opps.csv", "The submitted file is empty."),
        (b"just text", "opps.pdf", "Upload a .csv or .xlsx file"),
    ],
)
def test_an_unusable_file_gets_a_message_on_the_form(tenant_a, world, admin_client, content,
                                                     name, message):
    response = upload(admin_client, tenant_a, content, name=name)
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(tenant_a):
        assert ImportBatch.objects.count() == 0


def test_an_over_large_upload_is_refused_with_the_limit(tenant_a, world, admin_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = upload(admin_client, tenant_a, DEALS_CSV)
    assert response.status_code == 400
    assert "the largest accepted is 100\xa0bytes" in response.content.decode()


def test_a_workbook_sheet_can_be_chosen_on_the_upload_form(tenant_a, world, admin_client):
    book = openpyxl.Workbook()
    book.active.title = "Summary"
    book.active.append(["nothing to see"])
    deals = book.create_sheet("Deals")
    for row in csv.reader(io.StringIO(DEALS_CSV.decode())):
        deals.append(row)
    out = io.BytesIO()
    book.save(out)
    response = upload(admin_client, tenant_a, out.getvalue(), name="opps.xlsx", sheet="Deals")
    page = admin_client.get(response["Location"])
    assert b"No problems found." in page.content
    assert b"(sheet Deals)" in page.content


def test_the_upload_page_lists_the_accepted_headers(tenant_a, admin_client):
    page = admin_client.get(tenant_reverse(tenant_a, "imports:upload", kind="deals"))
    assert page.status_code == 200
    assert b"Opportunity ID" in page.content
    assert b"Forecast Category" in page.content


def test_an_unknown_kind_is_404(tenant_a, admin_client):
    assert admin_client.get(tenant_reverse(tenant_a, "imports:upload", kind="pets")).status_code \
        == 404


def import_urls(tenant, batch) -> list[tuple[str, str]]:
    return [
        ("get", tenant_reverse(tenant, "imports:index")),
        ("get", tenant_reverse(tenant, "imports:upload", kind="deals")),
        ("post", tenant_reverse(tenant, "imports:upload", kind="deals")),
        ("get", batch_url(tenant, "imports:batch", batch)),
        ("post", batch_url(tenant, "imports:apply", batch)),
        ("get", batch_url(tenant, "imports:errors-csv", batch)),
        ("post", batch_url(tenant, "imports:map-stage", batch)),
        ("post", batch_url(tenant, "imports:recheck", batch)),
    ]


@pytest.fixture
def batch_a(tenant_a, world):
    with tenant_context(tenant_a):
        return import_preview(kind="deals", content=DEALS_CSV, file_name="opps.csv")


@pytest.mark.smoke
def test_a_rep_gets_403_on_every_import_url(tenant_a, make_member, batch_a):
    client = Client(raise_request_exception=False)
    client.force_login(make_member(tenant_a, Role.REP))
    for method, url in import_urls(tenant_a, batch_a):
        assert getattr(client, method)(url).status_code == 403, url
    with tenant_context(tenant_a):
        assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MANAGER])
def test_other_non_admin_roles_get_403(tenant_a, make_member, batch_a, role):
    client = Client(raise_request_exception=False)
    client.force_login(make_member(tenant_a, role))
    for method, url in import_urls(tenant_a, batch_a):
        assert getattr(client, method)(url).status_code == 403, url


def test_an_admin_of_another_tenant_gets_404_on_every_import_url(tenant_a, admin_b, batch_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_b)
    for method, url in import_urls(tenant_a, batch_a):
        assert getattr(client, method)(url).status_code == 404, url


def test_another_tenants_batch_is_404_under_ones_own_slug(tenant_a, tenant_b, admin_b, batch_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_b)
    for name in ("imports:batch", "imports:errors-csv"):
        assert client.get(batch_url(tenant_b, name, batch_a)).status_code == 404
    for name in ("imports:apply", "imports:map-stage", "imports:recheck"):
        assert client.post(batch_url(tenant_b, name, batch_a)).status_code == 404
    with tenant_context(tenant_a):
        assert ImportBatch.objects.get().status == ImportStatus.PREVIEWED


def test_the_index_lists_this_tenants_recent_imports(tenant_a, admin_client, batch_a):
    page = admin_client.get(tenant_reverse(tenant_a, "imports:index"))
    assert page.status_code == 200
    assert b"opps.csv" in page.content
    assert page.content.count(b'data-status="previewed"') == 1


def test_a_long_error_list_is_cut_on_the_page_and_complete_in_the_download(
    tenant_a, world, admin_client, monkeypatch
):
    monkeypatch.setattr("spm.crm.views_import.ERRORS_ON_PAGE", 2)
    lines = [f"X{i},,ACC-1,-{i + 1},2026-01-01,Prospecting,E100" for i in range(5)]
    response = upload(admin_client, tenant_a, DEALS_CSV + "\r\n".join(lines).encode() + b"\r\n")
    page = admin_client.get(response["Location"]).content.decode()
    assert "Problems (5)" in page
    assert page.count("cannot be negative") == 2
    assert "3 more problems in the CSV download." in page
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    report = admin_client.get(batch_url(tenant_a, "imports:errors-csv", batch)).content.decode()
    assert report.count("cannot be negative") == 5


HUBSPOT_CSV = (
    b"Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Associated Company\r\n"
    b"981,Initech,contractsent,2026-04-30,Ana Silva,1200,Initech\r\n"
    b"982,Hooli,contractsent,2026-05-31,Ana Silva,900,Hooli\r\n"
    b"983,Initech 2,closedwon,2026-03-31,Ana Silva,800,Initech\r\n"
)


def test_an_unknown_stage_value_is_mapped_on_the_preview_and_the_file_checked_again(
    tenant_a, world, admin_a, admin_client, django_capture_on_commit_callbacks
):
    response = upload(admin_client, tenant_a, HUBSPOT_CSV, create_accounts="on")
    page = admin_client.get(response["Location"]).content.decode()
    assert "data-import-stage-map" in page
    assert "map <strong>contractsent</strong> (2 rows) to" in page
    assert "will create account Hooli" in page
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
        prospecting = Stage.objects.get(name="Prospecting")
    assert batch.status == ImportStatus.FAILED

    mapped = admin_client.post(batch_url(tenant_a, "imports:map-stage", batch),
                               {"source_value": "contractsent", "stage": prospecting.pk},
                               follow=True)
    text = mapped.content.decode()
    assert "&#x27;contractsent&#x27; now means the stage Prospecting" in text
    assert "No problems found." in text
    assert "data-import-stage-map" not in text
    with tenant_context(tenant_a):
        batch.refresh_from_db()
        mapping = StageMapping.objects.get()
        mapped_by = mapping.history.get().history_user_id
    assert batch.status == ImportStatus.PREVIEWED
    assert (mapping.source_value, mapping.stage_id) == ("contractsent", prospecting.pk)
    assert mapped_by == admin_a.pk

    apply(admin_client, tenant_a, batch, django_capture_on_commit_callbacks)
    with tenant_context(tenant_a):
        assert dict(Deal.objects.values_list("external_id", "stage__name")) == {
            "981": "Prospecting", "982": "Prospecting", "983": "Closed Won",
        }
        assert Account.objects.filter(name="Hooli").exists()
    # The next file with the same values needs no mapping.
    again = upload(admin_client, tenant_a, HUBSPOT_CSV)
    assert b"No problems found." in admin_client.get(again["Location"]).content


def test_a_mapping_to_a_stage_of_another_tenant_is_refused_and_nothing_saved(
    tenant_a, tenant_b, world, admin_client
):
    with tenant_context(tenant_b):
        theirs = StageFactory(name="Theirs", order=1)
    upload(admin_client, tenant_a, HUBSPOT_CSV)
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    response = admin_client.post(batch_url(tenant_a, "imports:map-stage", batch),
                                 {"source_value": "contractsent", "stage": theirs.pk},
                                 follow=True)
    assert "The mapping was not saved" in response.content.decode()
    with tenant_context(tenant_a):
        assert StageMapping.objects.count() == 0
        batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED


def test_missing_accounts_can_be_created_from_the_preview(tenant_a, world, admin_client):
    with tenant_context(tenant_a):
        StageMapping.objects.create(source_value="contractsent",
                                    stage=Stage.objects.get(name="Prospecting"))
    response = upload(admin_client, tenant_a, HUBSPOT_CSV)
    page = admin_client.get(response["Location"]).content.decode()
    assert "data-import-create-accounts" in page
    assert "unknown account: no account is named &#x27;Hooli&#x27;" in page
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    rechecked = admin_client.post(batch_url(tenant_a, "imports:recheck", batch),
                                  {"create_accounts": "on"}, follow=True).content.decode()
    assert "No problems found." in rechecked
    assert "will create account Hooli" in rechecked
    with tenant_context(tenant_a):
        batch.refresh_from_db()
        assert not Account.objects.filter(name="Hooli").exists()
    assert batch.options == {"create_accounts": True}


def test_a_new_tenant_without_stages_is_pointed_to_where_stages_are_set_up(
    tenant_a, admin_client
):
    with tenant_context(tenant_a):
        PersonFactory(employee_id="E100", name="Ana Silva", email="ana@example.com")
        AccountFactory(external_id="ACC-1", name="Initech")
    response = upload(admin_client, tenant_a, DEALS_CSV)
    page = admin_client.get(response["Location"]).content.decode()
    assert "no stages are set up yet" in page
    assert "No stages are set up yet. Add your sales stages in the admin" in page
    assert '/t/acme/admin/crm/stage/"' in page


def test_the_upload_form_offers_the_options_of_its_kind_only(tenant_a, admin_client):
    deals = admin_client.get(tenant_reverse(tenant_a, "imports:upload", kind="deals"))
    people = admin_client.get(tenant_reverse(tenant_a, "imports:upload", kind="people"))
    assert b'name="create_accounts"' in deals.content
    assert b'name="effective_date"' not in deals.content
    assert b'name="effective_date"' in people.content
    assert b'name="create_accounts"' not in people.content
    assert b"Manager Email" in people.content
    assert b"First Name" in people.content


def test_a_roster_uploaded_with_an_effective_date_keeps_it_for_apply(
    tenant_a, admin_client, django_capture_on_commit_callbacks
):
    roster = (b"Employee ID,First Name,Last Name,Work Email,Job Title,Manager Email\r\n"
              b"M1,Ada,Boss,ada@acme.example,VP Sales,\r\n"
              b"R1,Rui,Rep,rui@acme.example,Account Executive,ada@acme.example\r\n")
    response = upload(admin_client, tenant_a, roster, name="roster.csv", kind="people",
                      effective_date="2026-05-01")
    page = admin_client.get(response["Location"]).content.decode()
    assert "1 new team, 0 teams moved, 1 person placed in their manager's team from " \
        "2026-05-01" in page
    with tenant_context(tenant_a):
        batch = ImportBatch.objects.get()
    applied = apply(admin_client, tenant_a, batch, django_capture_on_commit_callbacks)
    assert "1 team created, 0 moved, 1 person placed" in applied.content.decode()
    from spm.org.models import TeamMembership

    with tenant_context(tenant_a):
        membership = TeamMembership.objects.select_related("team").get()
    assert (membership.team.name, str(membership.valid_from)) == ("Ada Boss's team",
                                                                  "2026-05-01")


def test_a_bad_effective_date_is_a_form_error(tenant_a, admin_client):
    response = upload(admin_client, tenant_a, b"Employee ID,Name,Email\r\n1,A,a@b.example\r\n",
                      kind="people", effective_date="2026-02-30")
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
