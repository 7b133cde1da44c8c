"""Plan pages: a payee's plan written for a person (printable), its electronic acceptance, the
list of who holds which version, and finance's page of acceptances still missing.

A rep reads and accepts their own plan; a manager reads their team's; admin and finance read
everyone's and send reminders. Anyone else gets the same 404 as for a person who does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from compensation.models import PlanVersion, VersionStatus
from compensation.plan_pages import acceptance_by_version, plan_page, plan_people
from compensation.services.acceptance import plan_acceptance_remind, plan_version_accept
from compensation.visibility import payee_ids_visible_to
from spm.org.models import Person
from spm.org.selectors import person_for_user
from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required
from spm.tenancy.today import tenant_today
from spm.web import detail_only_get, message_service_errors


def _visible_person_or_404(request: HttpRequest, person_id: int) -> Person:
    ids = payee_ids_visible_to(membership=request.membership, period=None)
    if ids is not None and person_id not in ids:
        raise Http404("No such person.")
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person.")
    return person


def _version_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("version", "")
    return int(raw) if raw.isdigit() else None


def _render_plan(request: HttpRequest, person: Person) -> HttpResponse:
    today = tenant_today(request.tenant)
    page = plan_page(person=person, on=today, version_id=_version_param(request))
    return render(request, "compensation/plan_detail.html", {
        "person": person, "page": page, "today": today,
        "is_me": person.user_id is not None and person.user_id == request.user.pk,
    })


@require_safe
def my_plan(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own plan."""
    me = person_for_user(user=request.user)
    if me is None:
        return render(request, "compensation/plan_detail.html",
                      {"person": None, "page": None, "is_me": True})
    return _render_plan(request, me)


def person_plan(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _visible_person_or_404(request, person_id)
    if (refused := detail_only_get(request)) is not None:
        return refused
    return _render_plan(request, person)


person_plan.model = Person  # type: ignore[attr-defined]


@require_POST
def plan_accept(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person accepts the version they read (named in the form, never guessed)."""
    person = _visible_person_or_404(request, person_id)
    raw = request.POST.get("version", "")
    version = (PlanVersion.objects.select_related("plan").filter(pk=raw).first()
               if raw.isdigit() else None)
    if version is None:
        messages.error(request, "Choose the plan version you accept.")
    else:
        try:
            acceptance = plan_version_accept(person=person, version=version, actor=request.user)
        except ValidationError as exc:
            message_service_errors(request, exc)
        else:
            messages.success(request, f"You accepted {version} on "
                                      f"{acceptance.accepted_at:%d %B %Y at %H:%M} UTC.")
    target = reverse("compensation:plan-person", kwargs={"person_id": person.pk})
    return redirect(f"{target}?version={raw}" if raw.isdigit() else target)


plan_accept.model = Person  # type: ignore[attr-defined]


@require_safe
@role_required(Role.ADMIN, Role.FINANCE, Role.MANAGER)
def plan_list(request: HttpRequest) -> HttpResponse:
    """Everyone the member may see who holds a plan, each version and its acceptance."""
    ids = payee_ids_visible_to(membership=request.membership, period=None)
    return render(request, "compensation/plan_list.html", {"rows": plan_people(person_ids=ids)})


@require_safe
@role_required(Role.ADMIN, Role.FINANCE)
def acceptance_status(request: HttpRequest) -> HttpResponse:
    """Versions in force now or later, with who has not accepted them."""
    today = tenant_today(request.tenant)
    return render(request, "compensation/plan_acceptance.html", {
        "versions": acceptance_by_version(on=today), "today": today,
    })


@require_POST
@role_required(Role.ADMIN, Role.FINANCE)
def acceptance_remind(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("version", "")
    version = (PlanVersion.objects.select_related("plan")
               .filter(pk=raw, status=VersionStatus.PUBLISHED).first()
               if raw.isdigit() else None)
    if version is None:
        messages.error(request, "Choose a published plan version to send reminders for.")
        return redirect("compensation:plan-acceptance")
    people = [int(p) for p in request.POST.getlist("person") if p.isdigit()] or None
    try:
        sent = plan_acceptance_remind(
            version=version, actor=request.user, person_ids=people,
            url=request.build_absolute_uri(reverse("compensation:my-plan")))
    except ValidationError as exc:
        message_service_errors(request, exc)
    else:
        emailed = sum(1 for r in sent if r.emailed_to)
        messages.success(request, f"Reminded {len(sent)} people about {version} "
                                  f"({emailed} by email).")
    return redirect("compensation:plan-acceptance")
