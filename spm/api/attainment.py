"""GET /api/v1/attainment/: quota attainment per person for a period, read-only.

Every number comes from `quotas.selectors.attainment_by_person`, the selector the quota pages
and the compensation engine read, so a system reading attainment sees what a rep sees on their
page. This module only parses the query, names the period and pages the selector's rows.
"""

from __future__ import annotations

import datetime
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from quotas.selectors import Attainment, attainment_by_person, attainment_window
from spm.org.models import Period, PeriodKind, Person
from spm.org.selectors import period_of_date
from spm.tenancy.today import tenant_today

from .filters import MAX_ID, NO_NUL
from .views import FIELD_ERRORS, ApiPagination, ErrorSerializer, TenantApiViewSet

# A period by id, fiscal year (FY2026), fiscal quarter (FY2026-Q1) or calendar month (2026-03).
# Fiscal years and quarters carry "FY" because with a fiscal year that does not start in
# January, "2026-Q1" would read as January to March 2026 to many people.
PERIOD_KEY = (
    r"^(?:[0-9]{1,18}|[Ff][Yy][0-9]{4}|[Ff][Yy][0-9]{4}-[Qq][1-4]|[0-9]{4}-(?:0[1-9]|1[0-2]))$"
)
# Days before the year 3000: the selector adds a day and a month to as_of, which the last
# month of year 9999 cannot take; no sales period needs a day that far out.
AS_OF = r"^[0-2][0-9]{3}-[0-9]{2}-[0-9]{2}$"
MONEY = {"max_digits": None, "decimal_places": 2, "read_only": True}
RATIO = {"max_digits": None, "decimal_places": 4, "read_only": True, "allow_null": True}


def period_key(period: Period) -> str:
    """The key that names `period` in a query (the inverse of `period_by_key`)."""
    if period.kind == PeriodKind.YEAR:
        return f"FY{period.fiscal_year}"
    if period.kind == PeriodKind.QUARTER:
        return f"FY{period.fiscal_year}-Q{period.number}"
    return f"{period.start_date:%Y-%m}"


def period_by_key(key: str) -> Period | None:
    """The active tenant's period a well-formed key names, or None when there is none."""
    key = key.upper()
    if key.isdigit():
        return Period.objects.filter(pk=int(key)).first()
    if key.startswith("FY"):
        year, _, quarter = key[2:].partition("-Q")
        if quarter:
            return Period.objects.filter(
                kind=PeriodKind.QUARTER, fiscal_year=int(year), number=int(quarter)
            ).first()
        return Period.objects.filter(kind=PeriodKind.YEAR, fiscal_year=int(year)).first()
    year, month = (int(part) for part in key.split("-"))
    if year < 1:
        return None  # no calendar has a year 0
    # Fiscal years start on the first of a month, so every fiscal month is a calendar month.
    return Period.objects.filter(
        kind=PeriodKind.MONTH, start_date=datetime.date(year, month, 1)
    ).first()


# -- the query ------------------------------------------------------------------------------------


class AttainmentQuerySerializer(serializers.Serializer):
    """The query string, checked as strictly as the schema states it, so a value the schema
    refuses is a 400 and one it allows is never one (a missing period or person is a 404)."""

    period = serializers.RegexField(
        PERIOD_KEY, required=False, trim_whitespace=False,
        error_messages={"invalid": "Give a period id, FY2026, FY2026-Q1 or 2026-03."},
    )
    as_of = serializers.RegexField(
        AS_OF, required=False, trim_whitespace=False,
        error_messages={"invalid": "Give a day as YYYY-MM-DD, before the year 3000."},
    )
    person = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    employee_id = serializers.CharField(required=False, max_length=64, trim_whitespace=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # DRF reads an empty optional value as a missing one; `?person=` would then quietly
        # answer for everyone, as the list filters refuse to do too.
        empty = {name: [f"{name} is empty: give a value or leave it out."]
                 for name in self.fields if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)

    def validate_as_of(self, value: str) -> datetime.date:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise serializers.ValidationError("No such day: give it as YYYY-MM-DD.") from None


QUERY_PARAMETERS = [
    OpenApiParameter(
        "period", {"type": "string", "pattern": PERIOD_KEY}, description=(
            "The period: its id, a fiscal year (`FY2026`), a fiscal quarter (`FY2026-Q1`) or "
            "the fiscal month that is a calendar month (`2026-03`). Default: the fiscal quarter "
            "holding `as_of`."
        ),
    ),
    OpenApiParameter(
        "as_of", {"type": "string", "format": "date", "pattern": AS_OF}, description=(
            "Attainment as it stood at the end of this day (YYYY-MM-DD): deals credited up "
            "to it, quota versions in force on it. Default: today in the workspace's time zone."
        ),
    ),
    OpenApiParameter(
        "person", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        description="Only this person (their id in SPM).",
    ),
    OpenApiParameter(
        "employee_id",
        {"type": "string", "minLength": 1, "maxLength": 64, "pattern": NO_NUL},
        description="Only this person, by employee id.",
    ),
]


# -- the answer -----------------------------------------------------------------------------------


class AttainmentPeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    key = serializers.SerializerMethodField(help_text="What `period` takes to name it again.")
    kind = serializers.ChoiceField(choices=PeriodKind.choices)
    fiscal_year = serializers.IntegerField()
    number = serializers.IntegerField(help_text="1-based within the fiscal year.")
    label = serializers.CharField()

    def get_key(self, period: Period) -> str:
        return period_key(period)


class AttainmentWindowSerializer(serializers.Serializer):
    period_start = serializers.DateField(help_text="First day of the period.")
    period_end = serializers.DateField(help_text="The day after the period's last day.")
    year_start = serializers.DateField(help_text="First day of the period's fiscal year.")
    year_end = serializers.DateField(help_text="The day after the fiscal year's last day.")
    as_of = serializers.DateField()
    elapsed = serializers.DecimalField(
        **{**RATIO, "allow_null": False},
        help_text="Share of the period's days gone by at the end of as_of, 0 to 1.",
    )


class AttainmentRowSerializer(serializers.Serializer):
    """One `Attainment` of the selector: its fields and properties, never recomputed here."""

    person_id = serializers.IntegerField()
    person = serializers.SerializerMethodField(help_text="Employee id.")
    name = serializers.CharField()
    leads_team = serializers.BooleanField(
        help_text="Credited with the bookings of the teams the person leads."
    )
    quota = serializers.DecimalField(**MONEY, help_text="Quota of the period.")
    credited = serializers.DecimalField(**MONEY, help_text="Credited bookings in the period.")
    attainment = serializers.DecimalField(
        **RATIO, help_text="credited / quota (0.8734 = 87.34%); null without a quota."
    )
    expected = serializers.DecimalField(
        **MONEY, help_text="The part of the quota due by as_of, following seasonality."
    )
    pace = serializers.DecimalField(
        **RATIO, help_text="credited / expected: 1 is exactly on pace; null when nothing is due."
    )
    gap = serializers.DecimalField(**MONEY, help_text="Still to book to reach the quota, >= 0.")
    ytd_quota = serializers.DecimalField(
        **MONEY, help_text="Quota from the fiscal year's start to the period's end."
    )
    ytd_credited = serializers.DecimalField(**MONEY)
    ytd_attainment = serializers.DecimalField(**RATIO)
    ytd_expected = serializers.DecimalField(**MONEY)
    ytd_pace = serializers.DecimalField(**RATIO)
    ytd_gap = serializers.DecimalField(**MONEY)

    def get_person(self, row: Attainment) -> str:
        return self.context["employee_ids"].get(row.person_id, "")


@extend_schema_serializer(many=False)
class AttainmentReportSerializer(serializers.Serializer):
    """A page of attainment rows, with the period and the days they cover."""

    period = AttainmentPeriodSerializer()
    window = AttainmentWindowSerializer()
    count = serializers.IntegerField(help_text="Rows on all pages.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AttainmentRowSerializer(many=True, help_text=(
        "One row per person with a quota or credits in the period, by name. Money and ratios "
        "are exact decimal strings."
    ))


class AttainmentViewSet(TenantApiViewSet):
    serializer_class = AttainmentReportSerializer
    filter_backends = []

    def allowed_query_parameters(self) -> set[str]:
        return {
            *AttainmentQuerySerializer().fields,
            ApiPagination.page_query_param,
            ApiPagination.page_size_query_param,
        }

    @extend_schema(
        parameters=QUERY_PARAMETERS,
        responses={
            200: AttainmentReportSerializer,
            400: FIELD_ERRORS,
            401: ErrorSerializer,
            404: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def list(self, request: Request) -> Response:
        """Quota attainment per person in a period and year to date, with pace and gap.

        The same numbers as the quota pages. People with neither a quota nor credits in the
        period's fiscal year are left out; `person` or `employee_id` narrows to one person.
        Any key of the workspace may read every person's attainment.
        """
        query = AttainmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        as_of = params.get("as_of") or tenant_today()
        period = self._period(params.get("period"), as_of)
        person_ids = self._person_ids(params)

        rows = attainment_by_person(period=period, as_of=as_of, person_ids=person_ids)
        paginator = ApiPagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        employee_ids = dict(
            Person.objects.filter(pk__in=[r.person_id for r in page])
            .values_list("pk", "employee_id")
        )
        report = {
            "period": period,
            "window": attainment_window(period=period, as_of=as_of),
            "count": len(rows),
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": page,
        }
        return Response(
            AttainmentReportSerializer(report, context={"employee_ids": employee_ids}).data
        )

    @staticmethod
    def _period(key: str | None, as_of: datetime.date) -> Period:
        if key is not None:
            period = period_by_key(key)
            if period is None:
                raise exceptions.NotFound(f"No period {key} in this workspace's calendar.")
            return period
        # The quota pages open on the same quarter.
        period = period_of_date(day=as_of, kind=PeriodKind.QUARTER)
        if period is None:
            raise exceptions.NotFound(
                f"No fiscal quarter of this workspace holds {as_of}; name a period."
            )
        return period

    @staticmethod
    def _person_ids(params: dict[str, Any]) -> set[int] | None:
        lookups = {}
        if "person" in params:
            lookups["pk"] = params["person"]
        if "employee_id" in params:
            lookups["employee_id"] = params["employee_id"]
        if not lookups:
            return None
        # Another workspace's person is exactly as unknown as one that never existed.
        person_id = Person.objects.filter(**lookups).values_list("pk", flat=True).first()
        if person_id is None:
            raise exceptions.NotFound("No such person in this workspace.")
        return {person_id}
