"""Fuzzing the import: random bytes, random workbooks-that-are-not and random cells under real
headers either read or fail with an ImportFileError, and every problem names a real row."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spm.crm.imports.fields import KINDS
from spm.crm.imports.reading import XLSX_MAGIC, ImportFileError, Table, read_table
from spm.crm.imports.service import import_check, import_file
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import AccountFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells people and attackers put in spreadsheets, mixed with arbitrary text.
TRICKY = st.sampled_from([
    "", " ", "=CMD(\"calc\")", "+1", "-0", "@SUM(A1)", "1e309", "NaN", "inf", "(12)", "$", "€1,2",
    "12/31/2026", "31/12/2026", "2026-02-30", "99999", "0", "00:61", "\x00", "\u202e", "E100",
    "ACC-1", "Prospecting", "ana@example.com", "1,234.567", "9" * 40, "\"", "\r\n", ",",
])
CELL = st.one_of(TRICKY, st.text(max_size=30))


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        StageFactory(name="Prospecting", order=1, default_probability=Decimal("10"))
        PersonFactory(employee_id="E100", name="Ana Silva", email="ana@example.com")
        AccountFactory(external_id="ACC-1")


def read_or_refuse(content: bytes, name: str) -> tuple[Table | None, str]:
    try:
        return read_table(content, file_name=name), ""
    except ImportFileError as exc:
        return None, str(exc)


@FUZZ
@given(content=st.binary(max_size=2000), name=st.sampled_from(["x.csv", "x.xlsx", "x.txt"]))
def test_random_bytes_are_read_or_refused_with_a_message(content, name):
    table, message = read_or_refuse(content, name)
    if table is None:
        assert message.endswith(".")
    else:
        assert len(table.cells) > 0
        assert all(isinstance(h, str) for h in table.headers)


@FUZZ
@given(tail=st.binary(max_size=500))
def test_damaged_workbooks_are_refused_with_a_message(tail):
    table, message = read_or_refuse(XLSX_MAGIC + tail, "x.xlsx")
    assert table is None
    assert message.endswith(".")


def rows_as_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


@FUZZ
@given(
    kind=st.sampled_from(sorted(KINDS)),
    data=st.data(),
)
def test_random_cells_under_real_headers_give_problems_with_real_rows(tenant_a, world, kind,
                                                                      data):
    spec = KINDS[kind]
    header = [f.aliases[0] for f in spec.fields]
    rows = data.draw(
        st.lists(st.lists(CELL, min_size=len(header), max_size=len(header)), min_size=1,
                 max_size=8)
    )
    try:
        content = rows_as_csv(header, rows)
    except UnicodeEncodeError:
        return  # lone surrogates cannot be written to a file in the first place
    with tenant_context(tenant_a):
        try:
            check = import_check(kind=kind, content=content, file_name="fuzz.csv")
        except ImportFileError:
            return
        row_numbers = set(check.row_numbers)
        for problem in check.errors:
            assert problem.row in row_numbers, problem
            assert problem.column in header
            assert problem.reason
        if check.ok:
            assert len(check.upsert_rows()) == check.row_count
            outcome = import_file(kind=kind, content=content, file_name="fuzz.csv")
            assert outcome.result is not None, outcome.check.errors


@FUZZ
@given(content=st.binary(max_size=600))
def test_posting_random_bytes_to_the_upload_page_never_gives_a_500(tenant_a, admin_a, content):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    response = client.post(
        tenant_reverse(tenant_a, "imports:upload", kind="deals"),
        {"file": SimpleUploadedFile("fuzz.csv", content)},
    )
    assert response.status_code in (302, 400)
