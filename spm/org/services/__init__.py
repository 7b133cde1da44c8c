"""Writes for people, teams and fiscal periods, one module per concept; every service is
imported from here."""

from .people import (
    PERSON_COLUMNS,
    people_upsert,
    person_assign_team,
)
from .periods import (
    period_set_status,
    periods_delete_all,
    periods_generate,
    periods_generate_around,
    periods_generate_covering,
)
from .placement import (
    PlacementResult,
    people_place_under_managers,
    reporting_cycle,
)
from .teams import (
    TEAM_NAME_MAX,
    team_create,
    team_move,
)

__all__ = [
    "PERSON_COLUMNS",
    "TEAM_NAME_MAX",
    "PlacementResult",
    "people_place_under_managers",
    "people_upsert",
    "period_set_status",
    "periods_delete_all",
    "periods_generate",
    "periods_generate_around",
    "periods_generate_covering",
    "person_assign_team",
    "reporting_cycle",
    "team_create",
    "team_move",
]
