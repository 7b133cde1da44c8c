"""Reading a stage mapping file (CSV or XLSX with the columns source and stage): each value a CRM
writes for a stage, and the tenant's stage it means. Every bad row is reported by row and
column; nothing is stored from a file with a problem."""

from __future__ import annotations

from spm.crm.models import Stage, stage_source_key

from .fields import Field, Kind, match_headers
from .reading import ImportFileError, read_table
from .references import shown
from .validation import HEADER_ROW, RowProblem

STAGE_MAP = Kind(
    name="stage-map",
    label="Stage mapping",
    key="source",
    fields=(
        Field("source", "Source", "text", (
            "Source", "Source Value", "Source Stage", "CRM Stage", "CRM Value", "Value", "From",
            "Internal ID", "Internal Value"), required=True, max_length=100),
        Field("stage", "Stage", "text", (
            "Stage", "Stage Name", "To", "Maps To", "Target Stage", "SPM Stage"),
            required=True, max_length=100),
    ),
)


def read_stage_map(
    content: bytes, *, file_name: str = ""
) -> tuple[list[tuple[str, Stage]], list[RowProblem]]:
    """(value, stage) pairs, or the problems that stop the file from being used."""
    table = read_table(content, file_name=file_name, allow_no_rows=True)
    match = match_headers(STAGE_MAP, table.headers)
    cells = table.cells
    headers = match.headers
    if len(match.columns) < 2:
        if len(table.headers) != 2 or match.columns:
            raise ImportFileError(
                "A stage mapping file has two columns, 'source' (the value in the CRM's export) "
                "and 'stage' (the name of one of your stages), with those names in the first row."
            )
        # No header row: the first row is a mapping like the others.
        first = {0: table.headers[0], 1: table.headers[1]}
        cells = cells.copy()
        cells.loc[HEADER_ROW] = [first.get(c, "") for c in cells.columns]
        cells = cells.sort_index()
        match.columns = {"source": 0, "stage": 1}
        headers = {"source": "source", "stage": "stage"}

    stages = {stage_source_key(s.name): s for s in Stage.objects.order_by("order", "name")}
    names = ", ".join(s.name for s in stages.values()) or "none are set up yet"
    pairs: list[tuple[str, Stage]] = []
    problems: list[RowProblem] = []
    first_row: dict[str, tuple[int, str]] = {}
    for row, values in cells.iterrows():
        source = str(values[match.columns["source"]]).strip()
        stage_name = str(values[match.columns["stage"]]).strip()
        key = stage_source_key(source)
        if not key:
            problems.append(RowProblem(int(row), headers["source"], "is empty", source))
            continue
        if len(source) > 100:
            problems.append(
                RowProblem(int(row), headers["source"], "is longer than 100 characters", source)
            )
            continue
        stage = stages.get(stage_source_key(stage_name))
        if stage is None:
            reason = (
                "is empty" if not stage_name
                else f"no stage is called {shown(stage_name)} (the stages are: {names}); add it "
                "in the admin (CRM > Stages) or use one of these names"
            )
            problems.append(RowProblem(int(row), headers["stage"], reason, stage_name))
            continue
        if key in first_row and first_row[key][1] != stage.name:
            problems.append(RowProblem(
                int(row), headers["source"],
                f"{shown(source)} is mapped again, to another stage (first in row "
                f"{first_row[key][0]})", source,
            ))
            continue
        first_row.setdefault(key, (int(row), stage.name))
        pairs.append((source, stage))
    if not pairs and not problems:
        raise ImportFileError("The stage mapping file has no mappings.")
    return pairs, problems
