"""`manage.py comp_simulate`: a plan document over CSV files, without the database."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

PLAN = """
plan: AE-SIM
version: 3
components:
  - code: commission
    kind: rate_table
    method: graduated
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, rate: 12%}
    caps:
      - {per: period, amount: 5000.00}
"""
CREDITS = """credit_id,payee_id,deal_id,period,credit_date,amount
1,E1,D1,2026-01,2026-01-10,60000.00
2,E1,D2,2026-01,2026-01-20,60000.00
3,E2,=cmd(),2026-02,2026-02-03,"10,000.00"
"""
QUOTAS = """payee_id,period,quota
E1,2026-01,100000.00
E2,2026-02,50000
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("plan.yaml", PLAN), ("credits.csv", CREDITS), ("quotas.csv", QUOTAS)):
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    paths["out"] = tmp_path / "lines.csv"
    return paths


def _run(files: dict[str, Path]) -> list[dict[str, str]]:
    call_command("comp_simulate", plan=files["plan.yaml"], credits=files["credits.csv"],
                 quotas=files["quotas.csv"], out=files["out"], stderr=io.StringIO())
    with files["out"].open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.smoke
def test_it_writes_one_line_per_credit_with_amounts_in_currency_units(files):
    lines = _run(files)
    assert [line["amount"] for line in lines] == ["4800.00", "200.00", "800.00"]
    assert lines[0]["explanation"].startswith("graduated: 60,000.00")
    # The second deal crosses quota: 40,000 at 8% + 20,000 at 12% = 5,600, capped at 5,000.
    assert lines[1]["capped"] == "5400.00"
    assert lines[0]["plan"] == "AE-SIM v3"


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(files):
    lines = _run(files)
    assert lines[2]["deal_id"] == "'=cmd()"


def test_a_reversal_is_written_as_a_negative_number_a_spreadsheet_can_sum(files):
    files["credits.csv"].write_text(
        CREDITS + "4,E2,-D3,2026-02,2026-02-04,-2500.00\n", encoding="utf-8")
    lines = _run(files)
    assert lines[3]["deal_id"] == "'-D3"
    # 10,000 then -2,500 at 8% of a 50,000 quota.
    assert [line["amount"] for line in lines[2:]] == ["800.00", "-200.00"]
    assert lines[3]["basis"] == "-2500.00"


def test_every_bad_cell_is_listed_with_its_file_row_and_column_and_nothing_is_written(files):
    files["credits.csv"].write_text(
        "credit_id,payee_id,deal_id,period,credit_date,amount\n"
        "1,E1,D1,2026-13,2026-01-10,12.345\n"
        "2,E1,D2,2026-01,yesterday,10\n", encoding="utf-8")
    files["quotas.csv"].write_text("payee_id,period,quota,colour\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        _run(files)
    message = str(caught.value)
    assert "credits.csv row 2, period: '2026-13' is not a month such as 2026-03" in message
    assert ("credits.csv row 2, amount: '12.345' has more than 2 decimal places (write an "
            "amount such as 1234.50)") in message
    assert "credits.csv row 3, credit_date: 'yesterday' is not a date (use YYYY-MM-DD" in message
    assert "quotas.csv: unknown column(s) colour" in message
    assert not files["out"].exists()


def test_plan_document_errors_name_their_path(files):
    files["plan.yaml"].write_text(PLAN.replace("rate: 12%", "rate: -12%"), encoding="utf-8")
    with pytest.raises(CommandError, match=r"components\[0\]\.tiers\[1\]\.rate"):
        _run(files)
