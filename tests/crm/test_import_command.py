"""`manage.py import_crm`: the same checks as the pages; any bad row means exit status 1 and
nothing written; --dry-run reports what would change and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from spm.crm.models import Deal, DealStageHistory, ImportBatch
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

HEADER = "Opportunity ID,Account ID,Amount,Close Date,Stage,Opportunity Owner\n"
GOOD = HEADER + "D1,ACC-1,100,2026-03-31,Prospecting,E100\nD2,ACC-1,250.50,2026-04-30,Won,E100\n"


@pytest.fixture
def world(tenant_a):
    with tenant_context(tenant_a):
        StageFactory(name="Prospecting", order=1, default_probability=Decimal("10"))
        StageFactory(name="Won", order=2, default_probability=Decimal("100"), is_won=True)
        PersonFactory(employee_id="E100", email="ana@example.com")
        AccountFactory(external_id="ACC-1")


def run(tmp_path, text: str, *extra: str) -> tuple[str, str]:
    path = tmp_path / "deals.csv"
    path.write_text(text)
    out, err = StringIO(), StringIO()
    call_command("import_crm", "--tenant", "acme", "--kind", "deals", "--file", str(path),
                 *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.smoke
def test_the_command_imports_a_file_and_a_rerun_changes_nothing(tenant_a, world, tmp_path):
    out, _ = run(tmp_path, GOOD)
    assert "Imported deals.csv: 2 created, 0 updated, 0 unchanged, 2 stage change(s)" in out
    out, _ = run(tmp_path, GOOD)
    assert "0 created, 0 updated, 2 unchanged, 0 stage change(s)" in out
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 2
        assert ImportBatch.objects.filter(status="applied").count() == 2


def test_a_bad_row_prints_every_problem_exits_1_and_writes_nothing(tenant_a, world, tmp_path):
    text = GOOD + "D3,ACC-1,-1,2026-04-30,Won,E100\nD4,ACC-1,5,someday,Won,E999\n"
    with pytest.raises(CommandError) as raised:
        run(tmp_path, text)
    assert raised.value.returncode == 1
    assert "3 problem(s) in deals.csv; nothing was imported." in str(raised.value)
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 0
        assert ImportBatch.objects.count() == 0


def test_the_problems_are_printed_one_per_line(tenant_a, world, tmp_path, capsys):
    path = tmp_path / "deals.csv"
    path.write_text(GOOD + "D3,ACC-1,-1,2026-04-30,Won,E100\n")
    argv = ["manage.py", "import_crm", "--tenant", "acme", "--kind", "deals", "--file", str(path)]
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(argv)
    assert exited.value.code == 1
    assert "Row 4, Amount: cannot be negative" in capsys.readouterr().err


def test_a_dry_run_reports_the_changes_and_writes_nothing(tenant_a, world, tmp_path):
    out, _ = run(tmp_path, GOOD, "--dry-run")
    assert "Dry run of deals.csv (2 rows): would be 2 created, 0 updated, 0 unchanged" in out
    with tenant_context(tenant_a):
        assert Deal.objects.count() == 0
        assert DealStageHistory.objects.count() == 0
        assert ImportBatch.objects.count() == 0


def test_an_unreadable_file_or_unknown_tenant_is_a_clear_error(tenant_a, world, tmp_path):
    with pytest.raises(CommandError, match=r"deals\.csv: The file is empty\."):
        run(tmp_path, "")
    with pytest.raises(CommandError, match="No active tenant with the slug 'nope'"):
        call_command("import_crm", "--tenant", "nope", "--kind", "deals", "--file", "x.csv")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_crm", "--tenant", "acme", "--kind", "deals", "--file",
                     str(tmp_path / "missing.csv"))
