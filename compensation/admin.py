"""Tenant admin for plans, versions and the component library (assignments and crediting setup
are in admin_setup, MBO scores and service-written records in admin_records). A little over 500
lines because the component and version pages share one validation path, the engine's.

Plan rules are the engine's: a component (with its tiers, points, milestones and caps as they
are about to be saved) is converted to the engine's dataclass and validated, and each error is
put on the field or inline row its path names. Published versions, and components they use,
open read-only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from compensation.engine.plans import PlanVersion as EnginePlan
from compensation.engine.plans import validate_plan
from spm.tenancy.admin_site import (
    TenantInline,
    TenantModelAdmin,
    TenantModelForm,
    tenant_admin_site,
)

from .models import (
    Component,
    ComponentCap,
    ComponentCurvePoint,
    ComponentMilestone,
    ComponentTier,
    CompPlan,
    PlanVersion,
    PlanVersionComponent,
)
from .plan_rows import (
    CHILD_OF_KIND,
    CHILDREN,
    ComponentRows,
    Location,
    component_to_engine,
    locate,
    row_errors,
)
from .plan_text import component_text, money, number, pct, tier_bounds, tier_rate
from .services import (
    component_revise,
    plan_version_new_from,
    plan_version_publish,
)
from .services.plans import _next_number, _next_revision

# ------------------------------------------------------------------------------------------------
# Components: one set of rules, the engine's
# ------------------------------------------------------------------------------------------------

_ORDER_KEY = {"tiers": "lower", "points": "attainment", "milestones": "attainment", "caps": "pk"}


def _sort_parts(rows: list[Any], part: str) -> list[Any]:
    """Parts in the order component_to_engine reads them, so error indexes match."""
    key = _ORDER_KEY[part]
    if key == "pk":
        return sorted(rows, key=lambda r: r.pk or 0)
    return sorted(rows, key=lambda r: (getattr(r, key) is None, getattr(r, key) or 0, r.pk or 0))


def _saved_parts(component: Component) -> dict[str, list[Any]]:
    if component.pk is None:
        return {part: [] for part in CHILDREN}
    return {part: list(getattr(component, related).all())
            for part, (related, _) in CHILDREN.items()}


def component_errors(component: Component, parts: dict[str, list[Any]]) -> list[Location]:
    """Every rule the component breaks, engine rules and row rules, located."""
    rows = ComponentRows(component, tiers=_sort_parts(parts["tiers"], "tiers"),
                         points=_sort_parts(parts["points"], "points"),
                         milestones=_sort_parts(parts["milestones"], "milestones"),
                         caps=_sort_parts(parts["caps"], "caps"))
    try:
        engine = component_to_engine(rows)
    except (TypeError, ValueError) as exc:  # a value of the wrong type never reaches here
        return [Location(0, "main", None, None, str(exc))]
    plan = EnginePlan(plan="library", version=1, components=(engine,))
    return [locate(e) for e in (validate_plan(plan) + row_errors(rows, "components[0]"))]


def _comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class ComponentForm(TenantModelForm):
    filter_product_lines = forms.CharField(
        required=False, help_text="Comma-separated product lines; empty = any.")
    filter_deal_types = forms.CharField(
        required=False, help_text="Comma-separated deal types (new, expansion, renewal).")

    class Meta:
        model = Component
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("filter_product_lines", "filter_deal_types"):
            self.initial[name] = ", ".join(getattr(self.instance, name) or [])

    def clean_filter_product_lines(self) -> list[str]:
        return _comma_list(self.cleaned_data.get("filter_product_lines") or "")

    def clean_filter_deal_types(self) -> list[str]:
        return _comma_list(self.cleaned_data.get("filter_deal_types") or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = copy.copy(self.instance)
        for name, value in cleaned.items():
            if hasattr(candidate, name) and name in {f.name for f in Component._meta.fields}:
                setattr(candidate, name, value)
        # The parts are checked by their own inlines; here only what this form holds.
        for location in component_errors(candidate, _saved_parts(self.instance)):
            if location.part != "main":
                continue
            field = location.field if location.field in self.fields else None
            self.add_error(field, location.message)
        return cleaned


class ComponentPartFormSet(BaseInlineFormSet):
    """Checks one kind of part (tiers, points, milestones or caps) with the component as it is
    about to be saved, and puts each error on the row it names."""

    part = ""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms) or self.instance is None:
            return
        kept = [form for form in self.forms
                if form not in self.deleted_forms and (form.instance.pk is not None
                                                       or form.has_changed())]
        parts = _saved_parts(self.instance) if self.instance.pk else {p: [] for p in CHILDREN}
        parts[self.part] = [form.instance for form in kept]
        ordered = _sort_parts([form.instance for form in kept], self.part)
        form_of = {id(form.instance): form for form in kept}
        problems = []
        for location in component_errors(self.instance, parts):
            if location.part != self.part:
                continue
            if location.index is None or location.index >= len(ordered):
                problems.append(location.message)
                continue
            form = form_of[id(ordered[location.index])]
            field = location.field if location.field in form.fields else None
            form.add_error(field, location.message)
        if problems:
            raise ValidationError(problems)


def _part_formset(part_name: str) -> type[ComponentPartFormSet]:
    return type(f"{part_name.title()}FormSet", (ComponentPartFormSet,), {"part": part_name})


class _ComponentPartInline(TenantInline):
    """A part of a component; read-only once the component is frozen."""

    def _frozen(self, obj: Component | None) -> bool:
        return obj is not None and obj.is_locked()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and not self._frozen(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not self._frozen(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._frozen(obj)


def tier_text(component: Component, tier: ComponentTier) -> str:
    """A tier as a person reads it (`0% to 100%: 8%` with an en dash), never raw decimals."""
    if tier.lower is None:
        return "-"
    bounds = tier_bounds(tier.lower, tier.upper, basis=component.basis,
                         measure=component.measure)
    if tier.rate is not None:
        rate = tier_rate(tier.rate, multiplier=None, base_rate=None, measure=component.measure)
    elif tier.multiplier is not None and component.base_rate is not None:
        rate = tier_rate(tier.multiplier * component.base_rate, multiplier=tier.multiplier,
                         base_rate=component.base_rate, measure=component.measure)
    else:
        rate = "no rate"
    return f"{bounds}: {rate}"


class ComponentTierInline(_ComponentPartInline):
    model = ComponentTier
    formset = _part_formset("tiers")
    fields = ["lower", "upper", "rate", "multiplier", "reads_as"]
    readonly_fields = ["reads_as"]
    verbose_name_plural = ("tiers (from is inclusive, to exclusive; the last tier has no end; "
                           "fractions: 0.08 = 8%)")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A frozen table is only read: show it as it reads, not as ten-decimal fractions.
        return ["reads_as"] if self._frozen(obj) else list(self.fields)

    @admin.display(description="reads as")
    def reads_as(self, tier: ComponentTier) -> str:
        return tier_text(tier.component, tier) if tier.pk and tier.component_id else "-"


class _ReadableWhenFrozen:
    """A frozen part shows one readable column instead of its raw fractions."""

    fields: list[str]
    readonly_fields = ["reads_as"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["reads_as"] if self._frozen(obj) else list(self.fields)  # type: ignore[attr-defined]


class ComponentCurvePointInline(_ReadableWhenFrozen, _ComponentPartInline):
    model = ComponentCurvePoint
    formset = _part_formset("points")
    fields = ["attainment", "payout"]

    @admin.display(description="reads as")
    def reads_as(self, point: ComponentCurvePoint) -> str:
        return (f"at {pct(point.attainment)} of quota: {pct(point.payout)} of target incentive"
                if point.pk else "-")


class ComponentMilestoneInline(_ReadableWhenFrozen, _ComponentPartInline):
    model = ComponentMilestone
    formset = _part_formset("milestones")
    fields = ["attainment", "amount", "of_target"]

    @admin.display(description="reads as")
    def reads_as(self, m: ComponentMilestone) -> str:
        if not m.pk:
            return "-"
        pays = money(m.amount) if m.amount is not None else f"{pct(m.of_target)} of target"
        return f"at {pct(m.attainment)} of quota: {pays}"


class ComponentCapInline(_ReadableWhenFrozen, _ComponentPartInline):
    model = ComponentCap
    formset = _part_formset("caps")
    fields = ["per", "amount", "target_multiple"]

    @admin.display(description="reads as")
    def reads_as(self, cap: ComponentCap) -> str:
        if not cap.pk:
            return "-"
        limit = (money(cap.amount) if cap.amount is not None
                 else f"{number(cap.target_multiple)} x target incentive")
        return f"at most {limit} per {cap.per}"


_INLINE_OF_PART = {"tiers": ComponentTierInline, "points": ComponentCurvePointInline,
                   "milestones": ComponentMilestoneInline}


@admin.register(Component, site=tenant_admin_site)
class ComponentAdmin(TenantModelAdmin):
    form = ComponentForm
    list_display = ["code", "revision", "name", "kind", "measure", "period"]
    list_filter = ["kind", "measure", "period"]
    search_fields = ["code", "name"]
    readonly_fields = ["revision", "used_by", "tier_table"]
    actions = ["make_revision"]
    fieldsets = [
        (None, {"fields": ["code", "revision", "name", "kind", "measure", "period",
                           "ytd_true_up", "used_by"]}),
        ("Rate table", {"fields": ["basis", "method", "evaluation", "base_rate", "tier_table"],
                        "description": "Rates and attainment are fractions: 0.08 = 8%."}),
        ("SPIFF", {"fields": ["spiff_per_deal", "spiff_per_unit", "spiff_percent"]}),
        ("MBO", {"fields": ["mbo_weight", "mbo_max_score"]}),
        ("Draw", {"fields": ["draw_recoverable", "draw_amount", "draw_of_target",
                             "draw_max_recovery_per_period", "draw_recovery_start",
                             "draw_last_period"]}),
        ("Which credits count", {"fields": [
            "filter_product_lines", "filter_deal_types", "filter_new_logo",
            "filter_deal_amount_at_least", "filter_deal_amount_below",
            "filter_closed_on_or_after", "filter_closed_before"]}),
        ("Gate and clawback", {"fields": ["gate_min_attainment", "gate_min_deal_amount",
                                          "clawback_within_days", "clawback_method"]}),
    ]

    def get_inlines(self, request: HttpRequest, obj: Component | None) -> list[type]:
        if obj is None:
            return [*_INLINE_OF_PART.values(), ComponentCapInline]
        part = CHILD_OF_KIND.get(obj.kind)
        # A kind's own part, plus any part still holding rows so they can be removed.
        saved = {p for p, (related, _) in CHILDREN.items()
                 if p != "caps" and getattr(obj, related).exists()}
        shown = [_INLINE_OF_PART[p] for p in ("tiers", "points", "milestones")
                 if p == part or p in saved]
        return [*shown, ComponentCapInline]

    def has_change_permission(self, request: HttpRequest, obj: Component | None = None) -> bool:
        return super().has_change_permission(request, obj) and not (
            obj is not None and obj.is_locked())

    def has_delete_permission(self, request: HttpRequest, obj: Component | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (
            obj is not None and obj.is_locked())

    @admin.display(description="used by")
    def used_by(self, obj: Component) -> str:
        if obj.pk is None:
            return "-"
        versions = PlanVersion.objects.filter(component_links__component=obj).select_related(
            "plan").distinct().order_by("plan__code", "number")
        return ", ".join(f"{v} ({v.get_status_display().lower()})" for v in versions) or "-"

    @admin.display(description="tiers")
    def tier_table(self, obj: Component) -> str:
        tiers = list(obj.tiers.all()) if obj.pk else []
        if not tiers:
            return "-"
        rows = format_html_join("", "<tr><td>{}</td></tr>",
                                ((tier_text(obj, t),) for t in tiers))
        return format_html('<table class="tier-table">{}</table>', rows)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> Any:
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_locked() and request.method == "GET":
            messages.info(request, f"{obj} is used by a published plan version, so it cannot "
                                   "change. Use the action 'Make a new revision' to change "
                                   "a copy.")
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Component, form: Any, change: bool) -> None:
        if not change:
            obj.revision = _next_revision(obj.code)
        obj._history_user = request.user
        obj.save()

    @admin.action(description="Make a new revision (an editable copy)")
    def make_revision(self, request: HttpRequest, queryset: QuerySet[Component]) -> None:
        if not self.has_add_permission(request):
            self.message_user(request, "Only admins make revisions.", messages.ERROR)
            return
        for component in queryset:
            revised = component_revise(component=component, actor=request.user)
            self.message_user(request, f"Made {revised} from {component}.", messages.SUCCESS)


# ------------------------------------------------------------------------------------------------
# Plans and versions
# ------------------------------------------------------------------------------------------------


def _part_summary(component: Component) -> str:
    """What the component pays, in the words of the plan page."""
    if component.kind == "rate_table":
        rows = [tier_text(component, t) for t in component.tiers.all()]
        return f"{component.method}, {component.basis}: " + "; ".join(rows)
    try:
        text = component_text(component_to_engine(ComponentRows.of(component)))
    except (TypeError, ValueError, KeyError):
        return component.get_kind_display()  # an unfinished draft: no formula to describe yet
    return f"{text.kind_label}: " + "; ".join(f"{label} {value}" for label, value in text.rows)


class VersionComponentFormSet(BaseInlineFormSet):
    """The version's components, checked together with the engine's rules."""

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = [form for form in self.forms
                if form not in self.deleted_forms and form.cleaned_data.get("component")]
        kept.sort(key=lambda f: (f.cleaned_data.get("position") or 0))
        components = [form.cleaned_data["component"] for form in kept]
        engine = [component_to_engine(ComponentRows.of(c)) for c in components]
        plan = EnginePlan(plan=getattr(self.instance.plan, "code", "plan")
                          if self.instance.plan_id else "plan",
                          version=self.instance.number or 1, components=tuple(engine))
        for error in validate_plan(plan):
            location = locate(error)
            if location.component is None:
                continue  # an empty draft is allowed; publishing needs a component
            form = kept[location.component]
            path = error.partition(": ")[0].partition(".")[2]
            if path == "code":
                form.add_error("component", location.message)
            else:
                form.add_error("component", f"{path or 'component'}: {location.message}")


class PlanVersionComponentInline(TenantInline):
    model = PlanVersionComponent
    formset = VersionComponentFormSet
    fields = ["position", "component", "summary"]
    readonly_fields = ["summary"]
    autocomplete_fields = ["component"]
    ordering = ["position", "pk"]
    verbose_name = "component"
    verbose_name_plural = "components (in the order they pay)"

    def _frozen(self, obj: PlanVersion | None) -> bool:
        return obj is not None and obj.is_published

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and not self._frozen(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not self._frozen(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._frozen(obj)

    @admin.display(description="what it pays")
    def summary(self, link: PlanVersionComponent) -> str:
        return _part_summary(link.component) if link.component_id else "-"


@admin.register(PlanVersion, site=tenant_admin_site)
class PlanVersionAdmin(TenantModelAdmin):
    list_display = ["__str__", "name", "status", "valid_from", "valid_to", "published_at"]
    list_filter = ["status", "plan"]
    list_select_related = ["plan"]
    search_fields = ["plan__code", "plan__name", "name"]
    inlines = [PlanVersionComponentInline]
    fields = ["plan", "number", "name", "status", "valid_from", "valid_to", "notes",
              "copied_from", "published_at", "published_by", "fingerprint"]
    readonly_fields = ["number", "status", "copied_from", "published_at", "published_by",
                       "fingerprint"]
    actions = ["publish", "new_draft"]

    def get_readonly_fields(self, request: HttpRequest, obj: PlanVersion | None = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "plan"] if obj is not None else fields

    def has_change_permission(self, request: HttpRequest, obj: PlanVersion | None = None) -> bool:
        return super().has_change_permission(request, obj) and not (
            obj is not None and obj.is_published)

    def has_delete_permission(self, request: HttpRequest, obj: PlanVersion | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (
            obj is not None and obj.is_published)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> Any:
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_published and request.method == "GET":
            messages.info(request, f"{obj} is published and never changes. Use the "
                                   "action 'New draft from this version' to change a copy.")
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: PlanVersion, form: Any,
                   change: bool) -> None:
        if not change:
            obj.number = _next_number(obj.plan)
        obj._history_user = request.user
        obj.save()

    def _each(self, request: HttpRequest, queryset: QuerySet[PlanVersion],
              operation: Callable[[PlanVersion], str]) -> None:
        if not self.has_add_permission(request):
            self.message_user(request, "Only admins change plan versions.", messages.ERROR)
            return
        for version in queryset.select_related("plan"):
            try:
                self.message_user(request, operation(version), messages.SUCCESS)
            except ValidationError as exc:
                lines = format_html_join("", "<li>{}</li>", ((m,) for m in exc.messages))
                self.message_user(request, format_html_join(
                    "", "{} cannot be published:<ul>{}</ul>", [(str(version), lines)]),
                    messages.ERROR)

    @admin.action(description="Publish selected drafts")
    def publish(self, request: HttpRequest, queryset: QuerySet[PlanVersion]) -> None:
        def run(version: PlanVersion) -> str:
            published = plan_version_publish(version=version, actor=request.user)
            return f"Published {published}, in force from {published.valid_from}."
        self._each(request, queryset, run)

    @admin.action(description="New draft from this version")
    def new_draft(self, request: HttpRequest, queryset: QuerySet[PlanVersion]) -> None:
        def run(version: PlanVersion) -> str:
            draft = plan_version_new_from(version=version, actor=request.user)
            return f"Made draft {draft} from {version}."
        self._each(request, queryset, run)


class PlanVersionInline(TenantInline):
    model = PlanVersion
    fields = ["number", "name", "status", "valid_from", "valid_to"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CompPlan, site=tenant_admin_site)
class CompPlanAdmin(TenantModelAdmin):
    list_display = ["code", "name", "credit_date_field"]
    search_fields = ["code", "name"]
    inlines = [PlanVersionInline]


# The other tenant admin pages of compensation, registered on import.
from . import admin_ops, admin_records, admin_setup  # noqa: E402, F401
