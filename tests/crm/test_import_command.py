"""`manage.py import_crm`: the same checks as the pages; any bad row means exit status 1 and
nothing written; --dry-run reports what would change and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from spm.crm.models import Account, Deal, DealStageHistory, ImportBatch, StageMapping
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
    assert "Imported deals.csv: 2 created, 0 updated, 0 unchanged, 0 stage change(s)" in out
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


HUBSPOT = (
    "Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Associated Company,Pipeline\n"
    "981,Initech,contractsent,2026-04-30,E100,1200,Initech,Sales Pipeline\n"
    "982,Initech 2,closedwon,2026-03-31,E100,800,Initech,Sales Pipeline\n"
)


def run_hubspot(tmp_path, stage_map: str | None, *extra: str) -> tuple[str, str]:
    path = tmp_path / "hubspot.csv"
    path.write_text(HUBSPOT)
    args = ["--tenant", "acme", "--kind", "deals", "--file", str(path), *extra]
    if stage_map is not None:
        (tmp_path / "stages.csv").write_text(stage_map)
        args += ["--stage-map", str(tmp_path / "stages.csv")]
    out, err = StringIO(), StringIO()
    call_command("import_crm", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def initech(tenant_a, world):
    with tenant_context(tenant_a):
        AccountFactory(external_id="ACC-2", name="Initech")


def test_a_stage_map_file_maps_hubspot_ids_and_is_remembered_for_the_next_file(
    tenant_a, initech, tmp_path
):
    out, _ = run_hubspot(tmp_path, "source,stage\ncontractsent,Prospecting\n")
    assert "2 created" in out
    assert "stage mappings: contractsent -> Prospecting" in out
    with tenant_context(tenant_a):
        stages = dict(Deal.objects.values_list("external_id", "stage__name"))
        assert StageMapping.objects.get().source_key == "contractsent"
    assert stages == {"981": "Prospecting", "982": "Won"}  # closedwon: the one won stage
    out, _ = run_hubspot(tmp_path, None)  # no map this time: the stored one is used
    assert "2 unchanged" in out


def test_a_stage_map_naming_a_stage_that_does_not_exist_writes_nothing(tenant_a, initech,
                                                                       tmp_path):
    with pytest.raises(CommandError) as raised:
        run_hubspot(tmp_path, "source,stage\ncontractsent,Negotiation\nclosedwon,Won\n")
    assert raised.value.returncode == 1
    assert "1 problem(s) in stages.csv; nothing was imported." in str(raised.value)
    with tenant_context(tenant_a):
        assert StageMapping.objects.count() == 0
        assert Deal.objects.count() == 0


def test_the_stage_map_problems_name_row_and_column(tenant_a, initech, tmp_path, capsys):
    (tmp_path / "stages.csv").write_text("source,stage\ncontractsent,Negotiation\n,Won\n")
    (tmp_path / "hubspot.csv").write_text(HUBSPOT)
    argv = ["manage.py", "import_crm", "--tenant", "acme", "--kind", "deals", "--file",
            str(tmp_path / "hubspot.csv"), "--stage-map", str(tmp_path / "stages.csv")]
    with pytest.raises(SystemExit):
        execute_from_command_line(argv)
    err = capsys.readouterr().err
    assert ("Row 2, stage: no stage is called 'Negotiation' (the stages are: Prospecting, Won)"
            in err)
    assert "Row 3, source: is empty" in err


def test_a_stage_map_is_not_kept_when_the_deals_file_has_problems_or_on_a_dry_run(
    tenant_a, initech, tmp_path
):
    out, _ = run_hubspot(tmp_path, "source,stage\ncontractsent,Prospecting\n", "--dry-run")
    assert "Dry run" in out
    assert "would be 2 created" in out
    with tenant_context(tenant_a):
        assert StageMapping.objects.count() == 0
    (tmp_path / "hubspot.csv").write_text(HUBSPOT + "983,Bad,contractsent,2026-02-30,E100,1,"
                                          "Initech,Sales Pipeline\n")
    with pytest.raises(CommandError):
        call_command("import_crm", "--tenant", "acme", "--kind", "deals", "--file",
                     str(tmp_path / "hubspot.csv"), "--stage-map", str(tmp_path / "stages.csv"),
                     stdout=StringIO(), stderr=StringIO())
    with tenant_context(tenant_a):
        assert StageMapping.objects.count() == 0
        assert Deal.objects.count() == 0


def test_missing_accounts_are_created_on_request(tenant_a, world, tmp_path):
    out, _ = run_hubspot(tmp_path, "source,stage\ncontractsent,Prospecting\n",
                         "--create-accounts")
    assert "1 account(s) created" in out
    with tenant_context(tenant_a):
        assert list(Account.objects.filter(name="Initech").values_list("name", flat=True)) == [
            "Initech"
        ]


def test_a_roster_places_people_from_the_effective_date(tenant_a, tmp_path):
    import datetime

    from spm.org.models import TeamMembership

    path = tmp_path / "roster.csv"
    path.write_text(
        "Employee ID,First Name,Last Name,Work Email,Job Title,Manager Email\n"
        "M1,Ada,Boss,ada@acme.example,Sales Director,\n"
        "R1,Rui,Rep,rui@acme.example,Account Executive,ada@acme.example\n"
    )
    out = StringIO()
    call_command("import_crm", "--tenant", "acme", "--kind", "people", "--file", str(path),
                 "--effective-date", "2026-05-01", stdout=out, stderr=StringIO())
    assert "1 team(s) created, 0 moved, 1 person(s) placed" in out.getvalue()
    with tenant_context(tenant_a):
        assert TeamMembership.objects.get().valid_from == datetime.date(2026, 5, 1)


def test_the_help_documents_the_options_and_the_stage_map_format(capsys):
    with pytest.raises(SystemExit):
        execute_from_command_line(["manage.py", "import_crm", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--stage-map FILE", "--create-accounts", "--effective-date YYYY-MM-DD",
                  "source,stage", "contractsent,Negotiation", "docs/import.md"):
        assert words in text
