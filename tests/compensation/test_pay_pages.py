"""Finance's pay pages: the months, one period's review with its buttons and history, the
export download, the payroll layout, and the finance home's cards; others get 403 or 404."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.test import Client

from compensation.models import (
    PayCycle,
    PayCycleStatus,
    PayeeApproval,
    Payout,
    PayrollExport,
    PayrollLayout,
    PaySettings,
)
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse

from .paycycle_world import build_pay_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def pay(tenant_a, make_member, time_machine):
    return build_pay_world(tenant_a, make_member, time_machine)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(tenant, name, **kwargs) -> str:
    return tenant_reverse(tenant, f"compensation:{name}", **kwargs)


def act(client, tenant, period, action, **data):
    return client.post(url(tenant, "pay-cycle-action", period_id=period.pk),
                       {"action": action, **data}, follow=True)


def test_finance_reviews_approves_exports_and_locks_a_month_from_its_page(tenant_a, pay):
    client = signed_in(pay.finance)
    page = client.get(url(tenant_a, "pay-cycle", period_id=pay.march.pk)).content.decode()
    assert 'data-pay-status="calculated"' in page
    assert 'data-action="submit"' in page
    act(client, tenant_a, pay.march, "submit")
    page = act(client, tenant_a, pay.march, "approve_payee",
               payee=pay.comp.reps[0].pk).content.decode()
    assert 'data-pay-status="in_review"' in page
    page = act(client, tenant_a, pay.march, "approve").content.decode()
    assert 'data-pay-status="approved"' in page
    assert "Payee approved" in page
    assert "Approved" in page
    download = client.post(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk),
                           {"format": "csv"})
    assert download["Content-Disposition"] == 'attachment; filename="payroll-2026-03.csv"'
    page = act(client, tenant_a, pay.march, "lock").content.decode()
    with tenant_context(tenant_a):
        export = PayrollExport.objects.get()
        pay.march.refresh_from_db()
    assert pay.march.is_locked
    assert 'data-pay-status="locked"' in page
    assert export.sha256 in page
    again = client.get(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk) + "?format=csv")
    assert hashlib.sha256(again.content).hexdigest() == export.sha256
    assert export.sha256 == hashlib.sha256(download.content).hexdigest()


def test_a_second_approver_who_gave_the_first_is_told_why_and_nothing_changes(tenant_a, pay):
    with tenant_context(tenant_a):
        PaySettings.objects.create(second_approval_above=Decimal("1.00"))
    client = signed_in(pay.finance)
    act(client, tenant_a, pay.march, "submit")
    act(client, tenant_a, pay.march, "approve")
    page = act(client, tenant_a, pay.march, "second_approve").content.decode()
    with tenant_context(tenant_a):
        seconds = PayeeApproval.objects.filter(second_approved_by__isnull=False).count()
    assert "the second approval must come from someone else" in page
    assert seconds == 0
    page = act(signed_in(pay.finance2), tenant_a, pay.march, "second_approve").content.decode()
    assert 'data-pay-status="approved"' in page


def test_exporting_an_unapproved_month_from_the_page_says_why_and_pays_nobody(tenant_a, pay):
    client = signed_in(pay.finance)
    response = client.post(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk),
                           {"format": "csv"}, follow=True)
    with tenant_context(tenant_a):
        assert not Payout.objects.exists()
    assert "is calculated, not approved" in response.content.decode()
    assert client.get(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk)
                      + "?format=csv").status_code == 404


def test_reopening_needs_a_reason_and_recalculating_an_approved_month_is_refused(
        tenant_a, pay):
    client = signed_in(pay.finance)
    act(client, tenant_a, pay.march, "submit")
    act(client, tenant_a, pay.march, "approve")
    refused = client.post(url(tenant_a, "run-recalculate"), {"period": pay.march.pk},
                          follow=True).content.decode()
    assert "reopen it with a reason" in refused
    page = act(client, tenant_a, pay.march, "reopen", reason="").content.decode()
    assert "Say why the period is reopened" in page
    page = act(client, tenant_a, pay.march, "reopen", reason="Wrong close date").content.decode()
    with tenant_context(tenant_a):
        status = PayCycle.objects.get(period=pay.march).status
    assert status == PayCycleStatus.CALCULATED
    assert "Wrong close date" in page


def test_reps_and_managers_get_403_and_another_tenants_period_is_404(
        tenant_a, tenant_b, make_member, pay):
    rep = make_member(tenant_a, Role.REP)
    manager = make_member(tenant_a, Role.MANAGER)
    for user in (rep, manager):
        client = signed_in(user)
        assert client.get(url(tenant_a, "pay-cycle-list")).status_code == 403
        assert client.get(url(tenant_a, "pay-cycle", period_id=pay.march.pk)).status_code == 403
        assert act(client, tenant_a, pay.march, "submit").status_code == 403
    with tenant_context(tenant_a):
        assert PayCycle.objects.get(period=pay.march).status == PayCycleStatus.CALCULATED
    outsider = signed_in(make_member(tenant_b, Role.FINANCE))
    assert outsider.get(url(tenant_b, "pay-cycle", period_id=pay.march.pk)).status_code == 404
    assert outsider.post(url(tenant_b, "pay-cycle-action", period_id=pay.march.pk),
                         {"action": "submit"}).status_code == 404
    assert outsider.get(url(tenant_a, "pay-cycle-list")).status_code == 404


def test_the_months_list_shows_each_status_in_a_fixed_number_of_queries(
        tenant_a, pay, django_assert_max_num_queries):
    client = signed_in(pay.finance)
    act(client, tenant_a, pay.march, "submit")
    with django_assert_max_num_queries(12):
        page = client.get(url(tenant_a, "pay-cycle-list")).content.decode()
    assert f'data-month="{pay.march.pk}"' in page
    assert 'data-status="in_review"' in page
    with django_assert_max_num_queries(22):
        client.get(url(tenant_a, "pay-cycle", period_id=pay.march.pk))


def test_an_admin_sets_the_payroll_columns_and_an_unknown_one_is_named(tenant_a, admin_a, pay):
    client = signed_in(admin_a)
    bad = client.post(url(tenant_a, "payroll-layout"), {"columns": "employee_id, bonus"})
    assert "Column 2 &#x27;bonus&#x27; is not a payroll column" in bad.content.decode()
    with tenant_context(tenant_a):
        assert not PayrollLayout.objects.exists()
    client.post(url(tenant_a, "payroll-layout"), {"columns": "name, amount"})
    finance_view = signed_in(pay.finance).get(url(tenant_a, "payroll-layout")).content.decode()
    assert "name, amount" in finance_view
    signed_in(pay.finance).post(url(tenant_a, "payroll-layout"), {"columns": "email"})
    with tenant_context(tenant_a):
        assert PayrollLayout.objects.get().columns == ["name", "amount"]


def test_the_finance_home_shows_months_in_review_and_exported(tenant_a, pay):
    client = signed_in(pay.finance)
    home = client.get(tenant_reverse(tenant_a, "tenant-home")).content.decode()
    assert 'data-empty="approvals"' in home
    act(client, tenant_a, pay.march, "submit")
    home = client.get(tenant_reverse(tenant_a, "tenant-home")).content.decode()
    assert f'data-cycle="{pay.march.pk}"' in home
    assert "In review" in home
    act(client, tenant_a, pay.march, "approve")
    client.post(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk), {"format": "csv"})
    home = client.get(tenant_reverse(tenant_a, "tenant-home")).content.decode()
    assert "Paid, to lock" in home


def test_the_admin_shows_a_cycles_history_read_only(tenant_a, admin_a, pay):
    client = signed_in(admin_a)
    act(signed_in(pay.finance), tenant_a, pay.march, "submit", reason="Ready for review")
    with tenant_context(tenant_a):
        cycle = PayCycle.objects.get(period=pay.march)
    change = tenant_reverse(tenant_a, "tenant_admin:compensation_paycycle_change",
                            object_id=cycle.pk)
    page = client.get(change).content.decode()
    assert "Ready for review" in page
    assert client.post(change, {"status": "paid"}).status_code == 403
    assert client.get(tenant_reverse(
        tenant_a, "tenant_admin:compensation_paycycle_add")).status_code == 403
    with tenant_context(tenant_a):
        assert PayCycle.objects.get(pk=cycle.pk).status == PayCycleStatus.IN_REVIEW


def test_the_ledger_summary_downloads_with_the_file_it_was_exported_with(tenant_a, pay):
    client = signed_in(pay.finance)
    act(client, tenant_a, pay.march, "submit")
    act(client, tenant_a, pay.march, "approve")
    client.post(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk), {"format": "xlsx"})
    summary = client.get(url(tenant_a, "pay-cycle-export", period_id=pay.march.pk)
                         + "?format=xlsx&summary=1")
    with tenant_context(tenant_a):
        export = PayrollExport.objects.get()
    assert summary["Content-Disposition"] == 'attachment; filename="gl-summary-2026-03.csv"'
    assert summary.content == bytes(export.summary)
    assert summary.content.decode().splitlines()[0] == "Section,Key,Amount"
