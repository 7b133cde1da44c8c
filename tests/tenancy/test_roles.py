"""Role rules: admin sees all, finance approves and exports, managers their subtree, reps self."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from spm.org.selectors import people_visible_to, visible_person_ids
from spm.org.services import person_assign_team, team_create
from spm.tenancy import permissions
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Membership, Role
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)


def membership(role: str) -> Membership:
    return Membership(role=role)


@pytest.mark.parametrize(
    ("role", "configure", "approve", "export", "everyone", "coach", "admin_site"),
    [
        (Role.ADMIN, True, True, True, True, True, True),
        (Role.FINANCE, False, True, True, True, False, True),
        (Role.MANAGER, False, False, False, False, True, False),
        (Role.REP, False, False, False, False, False, False),
    ],
)
def test_each_role_has_exactly_its_capabilities(
    role, configure, approve, export, everyone, coach, admin_site
):
    m = membership(role)
    assert permissions.can_configure(m) is configure
    assert permissions.can_approve(m) is approve
    assert permissions.can_export_payroll(m) is export
    assert permissions.can_see_everyone(m) is everyone
    assert permissions.can_coach(m) is coach
    assert permissions.can_use_admin(m) is admin_site


def test_no_membership_has_no_capability():
    assert not permissions.can_configure(None)
    assert not permissions.can_see_everyone(None)


def test_role_required_refuses_other_roles_with_403():
    @permissions.role_required(Role.ADMIN, Role.FINANCE)
    def view(request):
        return "ok"

    request = RequestFactory().get("/")
    request.membership = membership(Role.FINANCE)
    assert view(request) == "ok"
    request.membership = membership(Role.REP)
    with pytest.raises(PermissionDenied):
        view(request)


def test_role_required_rejects_unknown_role_names():
    with pytest.raises(ValueError, match="Unknown roles"):
        permissions.role_required("superhero")


@pytest.fixture
def org(tenant_a, make_member):
    """Region (VP) -> two teams (managers M1, M2) with reps; the VP sees both teams."""
    vp_user = make_member(tenant_a, Role.MANAGER, username="vp")
    m1_user = make_member(tenant_a, Role.MANAGER, username="m1")
    rep_user = make_member(tenant_a, Role.REP, username="rep1")
    with tenant_context(tenant_a):
        from spm.org.models import Person

        vp = Person.objects.get(user=vp_user)
        m1 = Person.objects.get(user=m1_user)
        rep1 = Person.objects.get(user=rep_user)
        rep2 = PersonFactory(name="Rep Two")
        rep3 = PersonFactory(name="Rep Three")
        region = team_create(name="EMEA", manager=vp)
        east = team_create(name="East", parent=region, manager=m1)
        west = team_create(name="West", parent=region)
        start = datetime.date(2025, 1, 1)
        for person, team in ((m1, region), (rep1, east), (rep2, east), (rep3, west)):
            person_assign_team(person=person, team=team, valid_from=start)
    return {"vp": vp, "m1": m1, "rep1": rep1, "rep2": rep2, "rep3": rep3,
            "users": {"vp": vp_user, "m1": m1_user, "rep": rep_user}}


def visible(tenant, user) -> set[int] | None:
    with tenant_context(tenant):
        m = Membership.objects.get(user=user, tenant=tenant)
        return visible_person_ids(membership=m, on=TODAY)


def test_a_rep_sees_only_themselves(tenant_a, org):
    assert visible(tenant_a, org["users"]["rep"]) == {org["rep1"].pk}


def test_a_manager_sees_their_team_and_themselves(tenant_a, org):
    assert visible(tenant_a, org["users"]["m1"]) == {org["m1"].pk, org["rep1"].pk, org["rep2"].pk}


def test_a_second_line_manager_sees_the_whole_subtree(tenant_a, org):
    ids = {org[k].pk for k in ("vp", "m1", "rep1", "rep2", "rep3")}
    assert visible(tenant_a, org["users"]["vp"]) == ids


def test_admin_and_finance_see_everyone(tenant_a, org, make_member):
    for role in (Role.ADMIN, Role.FINANCE):
        user = make_member(tenant_a, role)
        assert visible(tenant_a, user) is None


def test_a_manager_no_longer_sees_a_rep_who_moved_away(tenant_a, org):
    with tenant_context(tenant_a):
        from spm.org.models import Team

        west = Team.objects.get(name="West")
        person_assign_team(person=org["rep2"], team=west, valid_from=datetime.date(2026, 3, 1))
    assert org["rep2"].pk not in visible(tenant_a, org["users"]["m1"])


def test_a_member_without_a_linked_person_sees_nobody(tenant_a, make_member):
    user = make_member(tenant_a, Role.REP, person=False)
    with tenant_context(tenant_a):
        m = Membership.objects.get(user=user)
        assert people_visible_to(membership=m, on=TODAY).count() == 0
