"""The plan pages: a rep reads and accepts their own plan, a manager reads their team's, finance
and admin everyone's; finance sees who has not accepted and reminds them by email and in the
app; a stranger from another tenant sees nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from compensation.models import PlanAcceptance, PlanReminder
from compensation.plan_documents import load_plan
from compensation.services.acceptance import plan_acceptance_remind, plan_version_accept
from compensation.services.assignments import assignment_create
from compensation.services.plans import plan_version_import, plan_version_publish
from quotas.models import Quota
from spm.org.models import Period, Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import QuotaPlanFactory

from .mbo_world import build_mbo_world

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 3, 16, 12, 0, tzinfo=datetime.UTC)

PLAN_V2 = """
plan: AE
version: 2
components:
  - code: new-business
    name: New business commission
    kind: rate_table
    tiers:
      - {from: 0%, to: 100%, rate: 8%}
      - {from: 100%, rate: 12%}
    caps:
      - {per: period, amount: 20000.00}
    clawback: {within_days: 90, method: full}
"""


@pytest.fixture
def world(tenant_a, make_member, time_machine):
    time_machine.move_to(TODAY, tick=False)
    world = build_mbo_world(tenant_a, make_member)
    make_member(tenant_a, Role.FINANCE, username="fin")
    with tenant_context(tenant_a):
        quota_plan = QuotaPlanFactory(fiscal_year=2026, status="published")
        for month in Period.objects.filter(kind="month", fiscal_year=2026):
            Quota.objects.create(plan=quota_plan, person=world.ann, period=month,
                                 amount=Decimal("25000.00"), valid_from=datetime.date(2026, 1, 1))
    return world


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def plan_url(tenant, person) -> str:
    return tenant_reverse(tenant, "compensation:plan-person", person_id=person.pk)


def publish_v2(tenant) -> object:
    with tenant_context(tenant):
        return plan_version_publish(version=plan_version_import(
            document=load_plan(PLAN_V2), valid_from=datetime.date(2026, 7, 1)))


def acceptances(tenant) -> list[tuple[str, str]]:
    with tenant_context(tenant):
        return sorted((a.person.name, str(a.version)) for a in
                      PlanAcceptance.objects.select_related("person", "version__plan"))


# -- reading a plan -------------------------------------------------------------------------------


def test_a_rep_reads_their_own_plan_with_target_quota_and_every_component(tenant_a, world):
    page = signed_in("ann").get(tenant_reverse(tenant_a, "compensation:my-plan"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "AE v1" in html
    assert "60,000.00" in html  # yearly target incentive
    assert "300,000.00 for FY2026" in html  # the quota, from the quota plan
    assert "Quarterly objectives" in html
    assert "at a 100% score" in html
    assert "3,000" in html
    assert "<td>0 and above</td>" in html
    assert '<td class="text-end">8%</td>' in html
    assert "I accept AE v1" in html
    assert 'media="print"' in html


def test_attainment_tiers_show_the_money_for_the_reps_own_monthly_quota(tenant_a, world):
    publish_v2(tenant_a)
    with tenant_context(tenant_a):
        v2 = world.version.plan.versions.get(number=2)
    html = signed_in("ann").get(plan_url(tenant_a, world.ann) + f"?version={v2.pk}").content
    html = html.decode()
    assert "0% \u2013 100%" in html
    assert "0 \u2013 25,000" in html
    assert "100% and above" in html
    assert "25,000 and above" in html
    assert "accelerator" in html
    assert "Jul 2026: 25,000" in html  # the month the version starts
    assert "Cap: at most 20,000 each month." in html
    assert "cancelled within 90 days" in html
    assert "from 1 July 2026" in html


def test_a_rep_gets_404_for_someone_elses_plan(tenant_a, world):
    client = signed_in("ann")
    assert client.get(plan_url(tenant_a, world.zed)).status_code == 404
    assert client.get(plan_url(tenant_a, world.ann)).status_code == 200
    assert client.get(tenant_reverse(tenant_a, "compensation:plan-list")).status_code == 403
    assert client.get(tenant_reverse(tenant_a, "compensation:plan-acceptance")).status_code == 403


def test_a_manager_reads_their_teams_plans_but_not_others(tenant_a, world,
                                                          django_assert_max_num_queries):
    client = signed_in("boss")
    assert client.get(plan_url(tenant_a, world.ann)).status_code == 200
    assert client.get(plan_url(tenant_a, world.zed)).status_code == 404
    with django_assert_max_num_queries(16):
        listing = client.get(tenant_reverse(tenant_a, "compensation:plan-list"))
    html = listing.content.decode()
    assert world.ann.name in html
    assert world.zed.name not in html
    assert "I accept" not in client.get(plan_url(tenant_a, world.ann)).content.decode()


def test_finance_lists_everyone_and_their_versions_in_a_fixed_number_of_queries(
        tenant_a, world, django_assert_max_num_queries, make_member):
    for number in range(5):
        make_member(tenant_a, Role.REP, username=f"extra{number}")
    with tenant_context(tenant_a):
        extras = list(Person.objects.filter(user__username__startswith="extra"))
        for person in extras:
            assignment_create(person=person, plan=world.version.plan,
                              valid_from=datetime.date(2026, 1, 1))
    client = signed_in("fin")
    with django_assert_max_num_queries(16):
        listing = client.get(tenant_reverse(tenant_a, "compensation:plan-list"))
    html = listing.content.decode()
    for name in (world.ann.name, world.zed.name, world.boss.name, *(p.name for p in extras)):
        assert name in html
    assert client.get(plan_url(tenant_a, world.zed)).status_code == 200


def test_someone_from_another_tenant_gets_404_for_every_plan_page(tenant_a, tenant_b, world,
                                                                  admin_b):
    client = signed_in("admin_b")
    for url in (plan_url(tenant_a, world.ann),
                tenant_reverse(tenant_a, "compensation:my-plan"),
                tenant_reverse(tenant_a, "compensation:plan-list"),
                tenant_reverse(tenant_a, "compensation:plan-acceptance")):
        assert client.get(url).status_code == 404
    accept = tenant_reverse(tenant_a, "compensation:plan-accept", person_id=world.ann.pk)
    assert client.post(accept, {"version": world.version.pk}).status_code == 404
    assert acceptances(tenant_a) == []


def test_a_login_without_a_person_is_told_why_there_is_no_plan(tenant_a, world, make_member):
    make_member(tenant_a, Role.REP, username="ghost", person=False)
    page = signed_in("ghost").get(tenant_reverse(tenant_a, "compensation:my-plan"))
    assert "not linked to a person" in page.content.decode()


# -- accepting ------------------------------------------------------------------------------------


def test_a_rep_accepts_the_exact_version_once_and_a_second_click_changes_nothing(tenant_a, world):
    client = signed_in("ann")
    accept = tenant_reverse(tenant_a, "compensation:plan-accept", person_id=world.ann.pk)
    first = client.post(accept, {"version": world.version.pk}, follow=True)
    assert "You accepted AE v1" in first.content.decode()
    with tenant_context(tenant_a):
        acceptance = PlanAcceptance.objects.get()
        assert acceptance.version == world.version
        assert acceptance.accepted_by.username == "ann"
        assert acceptance.accepted_at == TODAY
        assert acceptance.fingerprint == world.version.fingerprint
        assert acceptance.history.count() == 1
    client.post(accept, {"version": world.version.pk})
    assert acceptances(tenant_a) == [(world.ann.name, "AE v1")]
    page = client.get(plan_url(tenant_a, world.ann)).content.decode()
    assert "Accepted by" in page
    assert "I accept" not in page


def test_a_new_version_needs_its_own_acceptance(tenant_a, world):
    with tenant_context(tenant_a):
        plan_version_accept(person=world.ann, version=world.version,
                            actor=get_user_model().objects.get(username="ann"))
    v2 = publish_v2(tenant_a)
    client = signed_in("ann")
    page = client.get(plan_url(tenant_a, world.ann) + f"?version={v2.pk}").content.decode()
    assert "I accept AE v2" in page
    client.post(tenant_reverse(tenant_a, "compensation:plan-accept", person_id=world.ann.pk),
                {"version": v2.pk})
    assert acceptances(tenant_a) == [(world.ann.name, "AE v1"), (world.ann.name, "AE v2")]


def test_nobody_accepts_for_someone_else_and_nothing_is_written(tenant_a, world):
    manager = signed_in("boss")
    response = manager.post(
        tenant_reverse(tenant_a, "compensation:plan-accept", person_id=world.ann.pk),
        {"version": world.version.pk}, follow=True)
    assert "Only the person paid on a plan can accept it" in response.content.decode()
    finance = signed_in("fin")
    finance.post(tenant_reverse(tenant_a, "compensation:plan-accept", person_id=world.ann.pk),
                 {"version": world.version.pk})
    assert acceptances(tenant_a) == []


def test_a_version_the_person_is_not_on_or_a_draft_cannot_be_accepted(tenant_a, world):
    ann = get_user_model().objects.get(username="ann")
    with tenant_context(tenant_a):
        draft = plan_version_import(document=load_plan(PLAN_V2.replace("version: 2",
                                                                        "version: 3")))
        with pytest.raises(ValidationError, match="draft"):
            plan_version_accept(person=world.ann, version=draft, actor=ann)
        other = plan_version_publish(version=plan_version_import(document=load_plan(
            PLAN_V2.replace("plan: AE", "plan: SE")), valid_from=datetime.date(2026, 1, 1)))
        with pytest.raises(ValidationError, match="not paid on SE v2"):
            plan_version_accept(person=world.ann, version=other, actor=ann)
    assert acceptances(tenant_a) == []


# -- finance: who has not accepted, and reminders -------------------------------------------------


def test_finance_sees_who_has_not_accepted_with_counts(tenant_a, world,
                                                       django_assert_max_num_queries):
    with tenant_context(tenant_a):
        plan_version_accept(person=world.ann, version=world.version,
                            actor=get_user_model().objects.get(username="ann"))
    client = signed_in("fin")
    with django_assert_max_num_queries(12):
        page = client.get(tenant_reverse(tenant_a, "compensation:plan-acceptance"))
    html = page.content.decode()
    assert "<strong>1</strong> of 3 accepted" in html
    assert '<strong data-missing-count>2</strong>' in html
    assert f'data-person="{world.zed.pk}"' in html
    assert f'data-person="{world.boss.pk}"' in html
    assert f'data-person="{world.ann.pk}"' not in html


def test_a_version_that_ends_shows_its_last_day_in_force(tenant_a, world):
    publish_v2(tenant_a)
    html = signed_in("fin").get(tenant_reverse(tenant_a, "compensation:plan-acceptance"))
    assert "In force from 1 Jan 2026 to 30 Jun 2026" in html.content.decode()
    ann_v1 = signed_in("ann").get(tenant_reverse(tenant_a, "compensation:my-plan"))
    assert "from 1 January 2026 to 30 June 2026" in ann_v1.content.decode()


def test_a_reminder_sends_one_email_and_one_notice_per_person_who_has_not_accepted(
        tenant_a, world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with tenant_context(tenant_a):
        plan_version_accept(person=world.ann, version=world.version,
                            actor=get_user_model().objects.get(username="ann"))
    client = signed_in("fin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(tenant_reverse(tenant_a, "compensation:plan-remind"),
                               {"version": world.version.pk}, follow=True)
    assert "Reminded 2 people about AE v1 (2 by email)" in response.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.zed.email, world.boss.email])
    assert all(m.subject == "Please accept your compensation plan AE v1" for m in mail.outbox)
    assert "/comp/my-plan/" in mail.outbox[0].body
    with tenant_context(tenant_a):
        assert sorted(r.person.name for r in PlanReminder.objects.all()) == sorted(
            [world.zed.name, world.boss.name])
        assert PlanReminder.objects.first().sent_by.username == "fin"
    zed_page = signed_in("zed").get(tenant_reverse(tenant_a, "compensation:my-plan"))
    assert "Finance asked you on 16 March 2026" in zed_page.content.decode()


def test_a_reminder_to_one_person_reaches_only_them_and_accepting_clears_it(
        tenant_a, world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        signed_in("fin").post(tenant_reverse(tenant_a, "compensation:plan-remind"),
                              {"version": world.version.pk, "person": world.zed.pk})
    assert [m.to for m in mail.outbox] == [[world.zed.email]]
    with tenant_context(tenant_a):
        plan_version_accept(person=world.zed, version=world.version,
                            actor=get_user_model().objects.get(username="zed"))
        assert not PlanReminder.objects.filter(read_at__isnull=True).exists()


def test_reminding_when_everyone_has_accepted_is_refused_and_sends_nothing(
        tenant_a, world, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with tenant_context(tenant_a):
        for person in (world.ann, world.zed, world.boss):
            plan_version_accept(person=person, version=world.version, actor=person.user)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(
                ValidationError, match="Everyone on AE v1 has accepted it"):
            plan_acceptance_remind(version=world.version, actor=None)
        assert not PlanReminder.objects.exists()
    assert mail.outbox == []


def test_only_finance_and_admin_send_reminders(tenant_a, world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for username in ("boss", "ann"):
        response = signed_in(username).post(
            tenant_reverse(tenant_a, "compensation:plan-remind"), {"version": world.version.pk})
        assert response.status_code == 403
    with tenant_context(tenant_a):
        assert not PlanReminder.objects.exists()
    assert mail.outbox == []


def test_the_admin_lists_acceptances_read_only_and_downloads_them_as_csv(tenant_a, world,
                                                                         admin_a):
    with tenant_context(tenant_a):
        acceptance = plan_version_accept(person=world.ann, version=world.version,
                                         actor=world.ann.user)
    client = signed_in("admin_a")
    changelist = tenant_reverse(tenant_a, "tenant_admin:compensation_planacceptance_changelist")
    assert world.ann.name in client.get(changelist).content.decode()
    change = tenant_reverse(tenant_a, "tenant_admin:compensation_planacceptance_change",
                            acceptance.pk)
    assert client.post(change, {"person": world.zed.pk}).status_code == 403
    download = client.post(changelist, {"action": "export_csv",
                                        "_selected_action": [acceptance.pk]})
    lines = download.content.decode().splitlines()
    assert lines[0] == "person,version,accepted_at,accepted_by,fingerprint"
    assert lines[1].startswith(f"{world.ann.name},AE v1,2026-03-16 12:00:00+00:00,ann,")


def test_a_margin_component_shows_percent_tiers_without_money_from_the_bookings_quota(
        tenant_a, world):
    with tenant_context(tenant_a):
        v2 = plan_version_publish(version=plan_version_import(document=load_plan(
            PLAN_V2 + "    measure: margin\n"), valid_from=datetime.date(2026, 7, 1)))
    html = signed_in("ann").get(plan_url(tenant_a, world.ann) + f"?version={v2.pk}")
    html = html.content.decode()
    assert "0% \u2013 100%" in html
    assert "0 \u2013 25,000" not in html
    assert "Paid on your margin" in html
