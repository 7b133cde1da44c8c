"""Which stage a deal's stage value means. In order: the tenant's own mapping of that value, a stage
of that name, then what the value means in a CRM's default pipeline (HubSpot's internal ids,
Salesforce's and Pipedrive's default stage names): a stage of the same name, or for a won or lost
value the tenant's one won or lost stage. A status column (Pipedrive, Dynamics) closes a deal
its stage leaves open. Anything else is reported with the ways to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from spm.crm.models import Stage, StageMapping, stage_source_key

from . import cleaning
from .references import resolve_each, shown

OPEN, WON, LOST = "open", "won", "lost"

# value as the CRM writes it -> (what it means, the stage name it is shown as)
_DEFAULT_PIPELINES: dict[str, tuple[str, str]] = {
    # HubSpot's default sales pipeline, as its exports write the internal ids.
    "appointmentscheduled": (OPEN, "Appointment Scheduled"),
    "qualifiedtobuy": (OPEN, "Qualified To Buy"),
    "presentationscheduled": (OPEN, "Presentation Scheduled"),
    "decisionmakerboughtin": (OPEN, "Decision Maker Bought-In"),
    "contractsent": (OPEN, "Contract Sent"),
    "closedwon": (WON, "Closed Won"),
    "closedlost": (LOST, "Closed Lost"),
    # Salesforce's default opportunity stages.
    "prospecting": (OPEN, "Prospecting"),
    "qualification": (OPEN, "Qualification"),
    "needsanalysis": (OPEN, "Needs Analysis"),
    "valueproposition": (OPEN, "Value Proposition"),
    "iddecisionmakers": (OPEN, "Id. Decision Makers"),
    "perceptionanalysis": (OPEN, "Perception Analysis"),
    "proposalpricequote": (OPEN, "Proposal/Price Quote"),
    "negotiationreview": (OPEN, "Negotiation/Review"),
    # Pipedrive's default pipeline; it keeps won and lost in a status column.
    "leadin": (OPEN, "Lead In"),
    "contactmade": (OPEN, "Contact Made"),
    "demoscheduled": (OPEN, "Demo Scheduled"),
    "proposalmade": (OPEN, "Proposal Made"),
    "negotiationsstarted": (OPEN, "Negotiations Started"),
    # Words any CRM uses for a closed deal.
    "won": (WON, "Won"),
    "lost": (LOST, "Lost"),
    "dealwon": (WON, "Won"),
    "deallost": (LOST, "Lost"),
}
STAGES_ADMIN = "the admin (CRM > Stages)"


@dataclass
class StageResolution:
    cleaned: cleaning.Cleaned
    # values no stage fits: normalised key -> (the value as first written, rows with it)
    unknown: dict[str, list] = field(default_factory=dict)


@dataclass(frozen=True)
class _Stages:
    names: dict[int, str]
    by_key: dict[str, int]
    mapped: dict[str, int]
    won: list[int]
    lost: list[int]

    @classmethod
    def of_tenant(cls) -> _Stages:
        stages = list(Stage.objects.order_by("order", "name").values_list(
            "pk", "name", "is_won", "is_lost"))
        return cls(
            names={pk: name for pk, name, _, _ in stages},
            by_key={stage_source_key(name): pk for pk, name, _, _ in stages},
            mapped=dict(StageMapping.objects.values_list("source_key", "stage_id")),
            won=[pk for pk, _, won, _ in stages if won],
            lost=[pk for pk, _, _, lost in stages if lost],
        )

    def closing(self, meaning: str, written: str) -> tuple[int | None, str | None]:
        """The one won (or lost) stage, or why there is none to pick."""
        if not self.names:
            return None, self.unknown(written)
        candidates = self.won if meaning == WON else self.lost
        if len(candidates) == 1:
            return candidates[0], None
        if not candidates:
            return None, (
                f"{shown(written)} means a {meaning} deal, but no stage is marked {meaning}: "
                f"mark one in {STAGES_ADMIN}, or map this value to a stage"
            )
        names = ", ".join(self.names[pk] for pk in candidates)
        return None, (
            f"{shown(written)} means a {meaning} deal and several stages are {meaning} "
            f"({names}): map this value to one of them"
        )

    def unknown(self, written: str) -> str:
        if not self.names:
            return (
                f"unknown stage {shown(written)}: no stages are set up yet (the stages are: none "
                f"are set up yet). Add your stages in {STAGES_ADMIN}; a value your CRM writes "
                "differently can then be mapped to one on the import preview, or with "
                "import_crm --stage-map"
            )
        return (
            f"unknown stage {shown(written)} (the stages are: {', '.join(self.names.values())}). "
            "Map it to one of them on the import preview or with import_crm --stage-map, or add "
            f"the stage in {STAGES_ADMIN}"
        )


def resolve_stages(
    raw: pd.Series, *, statuses: pd.Series | None = None, required: bool = True
) -> StageResolution:
    """Stage primary keys per row; `statuses` ("open", "won", "lost" or None) may close a deal."""
    stages = _Stages.of_tenant()

    def look_up(written: str) -> tuple[int | None, str | None]:
        key = stage_source_key(written)
        if key in stages.mapped:
            return stages.mapped[key], None
        if key in stages.by_key:
            return stages.by_key[key], None
        meaning, label = _DEFAULT_PIPELINES.get(key, (None, ""))
        if label and stage_source_key(label) in stages.by_key:
            return stages.by_key[stage_source_key(label)], None
        if meaning in (WON, LOST):
            return stages.closing(meaning, written)
        return None, stages.unknown(written)

    cleaned = resolve_each(raw, look_up, required=required)
    resolution = StageResolution(cleaned=cleaned)
    if statuses is not None:
        _close_by_status(resolution, stages, statuses)
    present = raw != ""
    unknown = present & cleaned.problems.fillna("").str.startswith("unknown stage")
    for value, rows in raw[unknown].groupby(raw[unknown].map(stage_source_key)):
        resolution.unknown[str(value)] = [rows.iloc[0], len(rows)]
    cleaned.shown = pd.Series(
        [
            f"{written} → {stages.names[pk]}"
            if pk is not None and stage_source_key(written) != stage_source_key(stages.names[pk])
            else written
            for written, pk in zip(raw.tolist(), cleaned.parsed.tolist(), strict=True)
        ],
        index=raw.index, dtype=object,
    )
    return resolution


def _close_by_status(
    resolution: StageResolution, stages: _Stages, statuses: pd.Series
) -> None:
    """A won or lost status moves a deal its stage leaves open to the won or lost stage."""
    cleaned = resolution.cleaned
    for meaning, closed in ((WON, stages.won), (LOST, stages.lost)):
        says = (statuses == meaning) & cleaned.parsed.notna()
        needs = says & ~cleaned.parsed.isin(closed)
        if not needs.any():
            continue
        if closed:
            # Several won stages: the status cannot say which, so the first in the funnel.
            cleaned.set(needs, [closed[0]] * int(needs.sum()))
        else:
            cleaned.fail(
                needs,
                f"the status says the deal is {meaning}, but no stage is marked {meaning}: "
                f"mark one in {STAGES_ADMIN}",
            )
