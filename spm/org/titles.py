"""Which seller role a job title means: the tenant's TitleRoleRule rows first, then built-in rules
that fit the titles most sales organisations use. Pure apart from reading the tenant's rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .models import SellerRole, TitleRoleRule
from .names import name_key

# (words, role), tried in order; the first whose words appear in the title wins. Individual
# contributors whose titles say "manager" come before the manager words, and managers of SDRs
# ("SDR Manager") before the SDR words.
BUILT_IN_RULES: tuple[tuple[str, str], ...] = (
    ("account manager", SellerRole.REP),
    ("territory manager", SellerRole.REP),
    ("customer success manager", SellerRole.OTHER),
    *((words, SellerRole.MANAGER) for words in (
        "manager", "mgr", "director", "head", "vp", "svp", "evp", "avp", "rvp",
        "vice president", "president", "chief", "cro", "team lead", "team leader",
        "supervisor",
    )),
    *((words, SellerRole.SDR) for words in (
        "sdr", "bdr", "mdr", "sales development", "business development representative",
        "business development rep", "market development", "lead development",
    )),
    *((words, SellerRole.OVERLAY) for words in (
        "solutions engineer", "solution engineer", "sales engineer", "solutions consultant",
        "solution consultant", "solutions architect", "presales", "pre sales", "overlay",
    )),
)
DEFAULT_ROLE = SellerRole.REP


def title_rules() -> list[tuple[str, str]]:
    """The active tenant's rules in the order they are tried, then the built-in ones."""
    own = [(rule.title_contains, rule.role) for rule in TitleRoleRule.objects.all()]
    return [*own, *BUILT_IN_RULES]


def role_for_title(title: str, rules: Sequence[tuple[str, str]] | Iterable[tuple[str, str]]) -> str:
    """The role of the first rule whose words are whole words of `title`; else a rep."""
    padded = f" {name_key(title)} "
    for words, role in rules:
        key = name_key(words)
        if key and f" {key} " in padded:
            return role
    return DEFAULT_ROLE
