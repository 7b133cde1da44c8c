"""The admin's setup checklist: each step of making a tenant usable, done or not, with the page
where it is done and the management command that does it in bulk."""

from __future__ import annotations

from dataclasses import dataclass

from spm.tenancy.models import Tenant
from spm.tenancy.urls import tenant_reverse

from .selectors import setup_progress


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str
    kwargs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    why: str
    links: tuple[Link, ...]
    command: str = ""  # with {slug} for the tenant's slug


STEPS: tuple[Step, ...] = (
    Step(
        "calendar", "Fiscal calendar",
        "Fiscal year start, currency, time zone and the periods everything is measured in.",
        (Link("Workspace setup", "onboarding:setup"),),
    ),
    Step(
        "people", "People",
        "Reps and managers who can be credited or manage a team, each linked to a sign-in.",
        (Link("Add people", "tenant_admin:org_person_changelist"),
         Link("Import a file", "imports:upload", (("kind", "people"),))),
        "manage.py import_crm --tenant {slug} --kind people --file people.csv",
    ),
    Step(
        "teams", "Teams",
        "The sales organisation as a tree; a team's manager sees everyone below it. A roster "
        "with a manager column builds it on import.",
        (Link("Build the team tree", "tenant_admin:org_team_changelist"),
         Link("Import a roster", "imports:upload", (("kind", "people"),))),
        "manage.py import_crm --tenant {slug} --kind people --file roster.csv",
    ),
    Step(
        "stages", "Sales stages",
        "Your sales process; deals in won stages are credited.",
        (Link("Review the stages", "tenant_admin:crm_stage_changelist"),),
    ),
    Step(
        "accounts", "Accounts",
        "The customers deals are sold to, as your CRM names them.",
        (Link("Import accounts", "imports:upload", (("kind", "accounts"),)),
         Link("Connect a CRM", "apikey-list")),
        "manage.py import_crm --tenant {slug} --kind accounts --file accounts.csv",
    ),
    Step(
        "deals", "Deals",
        "Opportunities with owner, amount, stage and dates; won deals become credits.",
        (Link("Import deals", "imports:upload", (("kind", "deals"),)),
         Link("Connect a CRM", "apikey-list")),
        "manage.py import_crm --tenant {slug} --kind deals --file deals.csv",
    ),
    Step(
        "plans", "Comp plans",
        "What a plan pays, in a published version (a draft pays nothing).",
        (Link("Comp plans", "tenant_admin:compensation_compplan_changelist"),),
        "manage.py plan_import --tenant {slug} plan.yaml --valid-from YYYY-MM-DD --publish",
    ),
    Step(
        "assignments", "Plan assignments",
        "Who is on which plan from when, with their target incentive.",
        (Link("Import assignments", "compensation:assignment-import"),
         Link("Assign people to plans", "tenant_admin:compensation_planassignment_changelist")),
        "manage.py assignments_import --tenant {slug} assignments.csv --apply",
    ),
    Step(
        "quotas", "Quotas",
        "Each seller's quota per month, allocated from a quota plan and applied.",
        (Link("Quota plans", "quotas:plan-list"),),
    ),
    Step(
        "calculation", "First calculation",
        "A successful calculation run turns credits into commission statements.",
        (Link("Calculations", "compensation:run-list"),),
        "manage.py recalc --tenant {slug} --open",
    ),
)


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    why: str
    done: bool
    links: tuple[tuple[str, str], ...]  # (label, url)
    command: str


@dataclass(frozen=True)
class Checklist:
    items: tuple[Item, ...]

    @property
    def done_count(self) -> int:
        return sum(item.done for item in self.items)

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def next_item(self) -> Item | None:
        return next((item for item in self.items if not item.done), None)

    @property
    def done_by_key(self) -> dict[str, bool]:
        return {item.key: item.done for item in self.items}


def setup_checklist(*, tenant: Tenant) -> Checklist:
    """Every setup step of the active tenant, marked from its rows (one query)."""
    progress = setup_progress(tenant=tenant)
    return Checklist(tuple(
        Item(
            key=step.key,
            title=step.title,
            why=step.why,
            done=progress[step.key],
            links=tuple(
                (link.label, tenant_reverse(tenant, link.url_name, **dict(link.kwargs)))
                for link in step.links
            ),
            command=step.command.format(slug=tenant.slug),
        )
        for step in STEPS
    ))
