"""Disputes: a payee questions their statement, the thread with their managers and finance,
its moves to a resolution or a rejection, its age against the target, and notifications."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from compensation.models import (
    Dispute,
    DisputeMessage,
    DisputePolicy,
    DisputeStatus,
    LineItem,
    Notification,
)
from compensation.services import (
    adjustment_create,
    dispute_comment,
    dispute_move,
    dispute_open,
    dispute_reject,
    dispute_resolve,
)
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse

from .ops_world import build_ops_world, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(tenant_a, make_member):
    return build_ops_world(tenant_a, make_member)


def _line(ops, person):
    return LineItem.objects.filter(payee=person, period=ops.jan).order_by("pk").first()


def _open(ops, line=True, **kwargs):
    return dispute_open(payee=ops.ann, period=ops.jan,
                        line_item=_line(ops, ops.ann) if line else None,
                        subject="Deal missing", description="The ACME deal closed on 30 Jan.",
                        actor=ops.ann_user, **kwargs)


def _detail(ops, dispute):
    return tenant_reverse(ops.tenant, "compensation:dispute-detail", dispute_id=dispute.pk)


# -- services --------------------------------------------------------------------------------


@pytest.mark.smoke
def test_a_rep_opens_a_dispute_and_their_manager_and_finance_are_told_in_app_and_by_mail(
        ops, django_capture_on_commit_callbacks):
    with tenant_context(ops.tenant), django_capture_on_commit_callbacks(execute=True):
        dispute = _open(ops, amount_claimed=Decimal("480.00"))
    assert dispute.status == DisputeStatus.OPEN
    with tenant_context(ops.tenant):
        told = set(Notification.objects.values_list("recipient__username", flat=True))
        assert told == {"boss", "fin", "fin2"}
        assert DisputeMessage.objects.get(dispute=dispute).status_to == DisputeStatus.OPEN
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"boss@example.com", "fin@example.com",
                                      "fin2@example.com"}
    assert "Deal missing" in mail.outbox[0].subject


def test_a_dispute_on_another_persons_line_is_refused_and_nothing_is_written(ops):
    with tenant_context(ops.tenant):
        with pytest.raises(ValidationError) as refused:
            dispute_open(payee=ops.ann, period=ops.jan, line_item=_line(ops, ops.bob),
                         subject="Mine?", description="x", actor=ops.ann_user)
        assert "another person's statement" in str(refused.value.message_dict["line_item"])
        with pytest.raises(ValidationError, match="Only the payee"):
            dispute_open(payee=ops.bob, period=ops.jan, line_item=_line(ops, ops.bob),
                         subject="For bob", description="x", actor=ops.ann_user)
        assert not Dispute.objects.exists()
        assert not Notification.objects.exists()


def test_a_dispute_moves_to_review_and_is_resolved_by_a_linked_adjustment(
        ops, django_capture_on_commit_callbacks):
    with tenant_context(ops.tenant):
        dispute = _open(ops)
        dispute_comment(dispute=dispute, body="Looking at the CRM.", actor=ops.boss_user)
        dispute_move(dispute=dispute, status=DisputeStatus.IN_REVIEW, actor=ops.fin)
        [adjustment] = adjustment_create(payee=ops.ann, period=ops.feb,
                                         amount=Decimal("480.00"), reason_code=ops.correction,
                                         comment="Late ACME credit", actor=ops.fin)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            dispute_resolve(dispute=dispute, resolution="Paid in February.",
                            adjustment=adjustment, actor=ops.fin)
        dispute.refresh_from_db()
        assert dispute.status == DisputeStatus.RESOLVED
        assert dispute.adjustment == adjustment
        assert dispute.resolved_by == ops.fin
        statuses = list(dispute.messages.values_list("status_to", flat=True))
        assert statuses == ["open", "", "in_review", "resolved"]
        assert Notification.objects.filter(recipient=ops.ann_user,
                                           message__contains="resolved").exists()
    assert "ann@example.com" in mail.outbox[0].to


def test_a_rejection_needs_a_reason_and_a_closed_dispute_takes_no_more(ops):
    with tenant_context(ops.tenant):
        dispute = _open(ops, line=False)
        with pytest.raises(ValidationError, match="why"):
            dispute_reject(dispute=dispute, reason=" ", actor=ops.fin)
        dispute_reject(dispute=dispute, reason="The deal closed in February.", actor=ops.fin)
        with pytest.raises(ValidationError, match="rejected already"):
            dispute_comment(dispute=dispute, body="But…", actor=ops.ann_user)
        with pytest.raises(ValidationError, match="rejected already"):
            dispute_resolve(dispute=dispute, resolution="x", actor=ops.fin)
        assert dispute.messages.count() == 2


def test_a_dispute_is_not_resolved_by_another_persons_adjustment(ops):
    with tenant_context(ops.tenant):
        dispute = _open(ops)
        [adjustment] = adjustment_create(payee=ops.bob, period=ops.feb, amount=Decimal("1.00"),
                                         reason_code=ops.spiff, actor=ops.fin)
        with pytest.raises(ValidationError, match="another person"):
            dispute_resolve(dispute=dispute, resolution="x", adjustment=adjustment,
                            actor=ops.fin)
        dispute.refresh_from_db()
        assert dispute.status == DisputeStatus.OPEN


# -- pages -----------------------------------------------------------------------------------


def test_the_rep_questions_a_line_from_their_statement(client, ops):
    login(client, "ann")
    statement = tenant_reverse(ops.tenant, "compensation:statement", person_id=ops.ann.pk,
                               period_id=ops.jan.pk)
    page = client.get(statement).content.decode()
    assert "Question this statement" in page
    assert "data-dispute-line" in page
    with tenant_context(ops.tenant):
        line = _line(ops, ops.ann)
    new = tenant_reverse(ops.tenant, "compensation:dispute-new", person_id=ops.ann.pk,
                         period_id=ops.jan.pk)
    assert client.get(f"{new}?line={line.pk}").status_code == 200
    response = client.post(new, {"line": line.pk, "subject": "Rate wrong",
                                 "description": "Should be 12%."})
    assert response.status_code == 302
    with tenant_context(ops.tenant):
        dispute = Dispute.objects.get()
    assert dispute.line_item_id == line.pk
    assert "Rate wrong" in client.get(statement).content.decode()


def test_the_page_refuses_a_dispute_on_another_persons_line(client, ops):
    with tenant_context(ops.tenant):
        bobs = _line(ops, ops.bob)
    login(client, "ann")
    new = tenant_reverse(ops.tenant, "compensation:dispute-new", person_id=ops.ann.pk,
                         period_id=ops.jan.pk)
    response = client.post(new, {"line": bobs.pk, "subject": "x", "description": "y"})
    assert response.status_code == 200
    assert "another person" in response.content.decode()
    with tenant_context(ops.tenant):
        assert not Dispute.objects.exists()


def test_nobody_opens_a_dispute_on_someone_elses_statement(client, ops):
    login(client, "boss")  # sees ann's statement, but it is not theirs to dispute
    new = tenant_reverse(ops.tenant, "compensation:dispute-new", person_id=ops.ann.pk,
                         period_id=ops.jan.pk)
    assert client.get(new).status_code == 403
    client.logout()
    login(client, "bob")
    assert client.get(new).status_code == 404


def test_who_reads_a_dispute_the_payee_their_manager_finance_not_a_colleague_or_outsider(
        client, ops, tenant_b, make_member):
    with tenant_context(ops.tenant):
        dispute = _open(ops)
    make_member(tenant_b, "admin", username="stranger")
    for username, status in (("ann", 200), ("boss", 200), ("fin", 200), ("bob", 404),
                             ("stranger", 404)):
        login(client, username)
        assert client.get(_detail(ops, dispute)).status_code == status, username
        client.logout()


def test_a_manager_writes_in_the_thread_but_only_finance_resolves(client, ops):
    with tenant_context(ops.tenant):
        dispute = _open(ops)
    login(client, "boss")
    client.post(_detail(ops, dispute), {"action": "comment", "body": "I back this."})
    assert client.post(_detail(ops, dispute), {"action": "resolve",
                                               "body": "Fine"}).status_code == 403
    client.logout()
    login(client, "fin")
    client.post(_detail(ops, dispute), {"action": "review", "body": ""})
    response = client.post(_detail(ops, dispute), {"action": "reject", "body": ""},
                           follow=True)
    assert "Say why" in response.content.decode()
    client.post(_detail(ops, dispute), {"action": "reject", "body": "Closed in February."})
    with tenant_context(ops.tenant):
        dispute.refresh_from_db()
        assert dispute.status == DisputeStatus.REJECTED
        assert list(dispute.messages.values_list("body", flat=True))[1] == "I back this."
    page = client.get(_detail(ops, dispute)).content.decode()
    assert "Closed in February." in page


def test_the_list_filters_and_shows_age_against_the_tenants_target(
        client, ops, django_assert_max_num_queries):
    with tenant_context(ops.tenant):
        DisputePolicy.objects.create(target_days=3)
        old = _open(ops)
        Dispute.objects.filter(pk=old.pk).update(
            raised_at=timezone.now() - datetime.timedelta(days=5))
        fresh = _open(ops, line=False)
        for _ in range(4):
            _open(ops, line=False)
        dispute_move(dispute=fresh, status=DisputeStatus.IN_REVIEW, actor=ops.fin)
    login(client, "fin")
    url = tenant_reverse(ops.tenant, "compensation:dispute-list")
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert page.count("data-dispute=") == 6
    assert "5 days" in page
    assert "target 3 days" in page
    overdue = client.get(url + "?overdue=1").content.decode()
    assert overdue.count("data-dispute=") == 1
    review = client.get(url + "?status=in_review").content.decode()
    assert review.count("data-dispute=") == 1


def test_a_rep_lists_only_their_own_disputes_and_an_outsider_gets_404(
        client, ops, tenant_b, make_member):
    with tenant_context(ops.tenant):
        _open(ops)
    url = tenant_reverse(ops.tenant, "compensation:dispute-list")
    login(client, "bob")
    assert "data-dispute=" not in client.get(url).content.decode()
    client.logout()
    login(client, "ann")
    assert "Deal missing" in client.get(url).content.decode()
    client.logout()
    make_member(tenant_b, "admin", username="stranger")
    login(client, "stranger")
    assert client.get(url).status_code == 404


def test_the_navbar_badge_counts_unread_notifications_and_the_list_marks_them_read(
        client, ops):
    with tenant_context(ops.tenant):
        _open(ops)
    login(client, "boss")
    badge = client.get(tenant_reverse(ops.tenant, "compensation:notification-badge"))
    assert ">1<" in badge.content.decode()
    listing = tenant_reverse(ops.tenant, "compensation:notification-list")
    assert "Deal missing" in client.get(listing).content.decode()
    client.post(listing)
    badge = client.get(tenant_reverse(ops.tenant, "compensation:notification-badge"))
    assert "badge" not in badge.content.decode().replace("data-notification-badge", "")
    home = client.get(tenant_reverse(ops.tenant, "tenant-home")).content.decode()
    assert "data-nav-notifications" in home
