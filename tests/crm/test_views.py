"""Account and deal pages: lists with filters, sorting, totals and pages, and detail pages,
each seen by every role, by an outsider, and with junk in the query string."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from spm.crm.models import Account, Deal, DealStageHistory, Stage
from spm.crm.services import deal_change_stage
from spm.org.models import Period
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory
from tests.org.test_views import SalesOrg, build_sales_org

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@dataclass
class Book:
    """Deals of the sales org: one per person of interest, on two accounts (plus a lone one)."""

    org: SalesOrg
    stages: dict[str, Stage]
    shared: Account  # the rep's, the colleague's and the east rep's deals
    east_only: Account  # only the east rep's deal
    deals: dict[str, Deal]


@pytest.fixture
def book(tenant_a, make_member) -> Book:
    org = build_sales_org(tenant_a, make_member)
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2025])
        stages = {
            "prospect": StageFactory(name="Prospect", order=1, default_probability=Decimal(10)),
            "proposal": StageFactory(name="Proposal", order=2, default_probability=Decimal(50)),
            "won": StageFactory(name="Closed won", order=3, is_won=True,
                                default_probability=Decimal(100), forecast_category="closed"),
            "lost": StageFactory(name="Closed lost", order=4, is_lost=True,
                                 default_probability=Decimal(0), forecast_category="omitted"),
        }
        shared = AccountFactory(name="Shared Industries", industry="Retail", country="US",
                                segment="enterprise")
        east_only = AccountFactory(name="Eastern Widgets", industry="Manufacturing",
                                   country="DE", segment="smb")
        deals = {
            "rep": DealFactory(
                name="Rep renewal", owner=org.rep, account=shared, stage=stages["won"],
                amount=Decimal("1200.50"), close_date=datetime.date(2025, 2, 14),
                deal_type="renewal", product_line="Platform",
            ),
            "colleague": DealFactory(
                name="Colleague new logo", owner=org.colleague, account=shared,
                stage=stages["proposal"], amount=Decimal("800.25"),
                close_date=datetime.date(2025, 5, 20), product_line="Services",
            ),
            "manager": DealFactory(
                name="Manager expansion", owner=org.manager, account=shared,
                stage=stages["lost"], amount=Decimal("99.25"),
                close_date=datetime.date(2025, 8, 1), deal_type="expansion",
            ),
            "east": DealFactory(
                name="East big deal", owner=org.east_rep, account=east_only,
                stage=stages["prospect"], amount=Decimal("50000.00"),
                close_date=datetime.date(2025, 11, 30), product_line="Platform",
            ),
        }
    return Book(org=org, stages=stages, shared=shared, east_only=east_only, deals=deals)


def login(client, book: Book, role: str):
    client.force_login(book.org.users[role])
    return client


def url(book: Book, name: str, **kwargs: Any) -> str:
    return tenant_reverse(book.org.tenant, name, **kwargs)


def deal_names(response) -> list[str]:
    return [deal.name for deal in response.context["page"].object_list]


# -- deal list: who sees what --------------------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, {"Rep renewal", "Colleague new logo", "Manager expansion", "East big deal"}),
        (Role.FINANCE, {"Rep renewal", "Colleague new logo", "Manager expansion",
                        "East big deal"}),
        (Role.MANAGER, {"Rep renewal", "Colleague new logo", "Manager expansion"}),
        (Role.REP, {"Rep renewal"}),
    ],
)
def test_each_role_sees_the_deals_of_the_people_it_may_see(client, book, role, expected):
    response = login(client, book, role).get(url(book, "crm:deal-list"))

    assert response.status_code == 200
    assert set(deal_names(response)) == expected
    body = response.content.decode()
    for hidden in {"Rep renewal", "Colleague new logo", "East big deal"} - expected:
        assert hidden not in body


def test_deal_totals_add_up_the_filtered_deals_exactly(client, book):
    login(client, book, Role.MANAGER)

    response = client.get(url(book, "crm:deal-list"))
    platform = client.get(url(book, "crm:deal-list"), {"product_line": "Platform"})

    assert response.context["total"].amount == Decimal("2100.00")
    assert response.context["total_count"] == 3
    assert "USD 2,100.00" in response.content.decode()
    assert platform.context["total"].amount == Decimal("1200.50")
    assert "USD 1,200.50" in platform.content.decode()


def test_deals_in_another_currency_are_totalled_beside_not_into_the_tenant_currency(
    client, book
):
    with tenant_context(book.org.tenant):
        DealFactory(name="Euro deal", owner=book.org.rep, account=book.shared,
                    stage=book.stages["won"], amount=Decimal("1000.00"), currency="EUR")

    response = login(client, book, Role.REP).get(url(book, "crm:deal-list"))

    assert response.context["total"].amount == Decimal("1200.50")
    assert [(t.currency, t.amount) for t in response.context["other_totals"]] == [
        ("EUR", Decimal("1000.00"))
    ]
    assert "EUR 1,000.00 in 1 deal (not converted)" in response.content.decode()


def test_an_empty_deal_list_says_so(client, book):
    response = login(client, book, Role.ADMIN).get(url(book, "crm:deal-list"), {"q": "nothing"})

    assert deal_names(response) == []
    assert 'data-empty="deals"' in response.content.decode()
    assert "USD 0.00" in response.content.decode()


# -- deal list: filters and sorting --------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "proposal"}, {"Colleague new logo"}),
        ({"status": "won"}, {"Rep renewal"}),
        ({"status": "open"}, {"Colleague new logo", "East big deal"}),
        ({"deal_type": "expansion"}, {"Manager expansion"}),
        ({"product_line": "Platform"}, {"Rep renewal", "East big deal"}),
        ({"close_from": "2025-05-01", "close_to": "2025-08-01"},
         {"Colleague new logo", "Manager expansion"}),
        ({"q": "big"}, {"East big deal"}),
        ({"q": "eastern widgets"}, {"East big deal"}),
        ({"account": "shared"}, {"Rep renewal", "Colleague new logo", "Manager expansion"}),
        ({"owner": "east_rep"}, {"East big deal"}),
    ],
)
def test_the_deal_list_filters_narrow_the_rows(client, book, params, expected):
    ids = {
        "stage": lambda v: book.stages[v].pk,
        "account": lambda v: getattr(book, v).pk,
        "owner": lambda v: getattr(book.org, v).pk,
    }
    query = {k: ids[k](v) if k in ids else v for k, v in params.items()}

    response = login(client, book, Role.ADMIN).get(url(book, "crm:deal-list"), query)

    assert set(deal_names(response)) == expected
    assert response.context["total_count"] == len(expected)


def test_the_deal_list_filters_by_fiscal_period(client, book):
    with tenant_context(book.org.tenant):
        q1 = Period.objects.get(kind="quarter", fiscal_year=2025, number=1)
        q3 = Period.objects.get(kind="quarter", fiscal_year=2025, number=3)
    login(client, book, Role.ADMIN)

    in_q1 = client.get(url(book, "crm:deal-list"), {"period": q1.pk})
    in_q3 = client.get(url(book, "crm:deal-list"), {"period": q3.pk})

    assert set(deal_names(in_q1)) == {"Rep renewal"}
    # Q3 starts on 1 August: a deal closing that day is in it.
    assert set(deal_names(in_q3)) == {"Manager expansion"}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("amount", ["Manager expansion", "Colleague new logo", "Rep renewal", "East big deal"]),
        ("-amount", ["East big deal", "Rep renewal", "Colleague new logo", "Manager expansion"]),
        ("close", ["Rep renewal", "Colleague new logo", "Manager expansion", "East big deal"]),
        ("stage", ["East big deal", "Colleague new logo", "Rep renewal", "Manager expansion"]),
        ("name", ["Colleague new logo", "East big deal", "Manager expansion", "Rep renewal"]),
    ],
)
def test_the_deal_list_sorts_by_whitelisted_columns(client, book, sort, expected):
    response = login(client, book, Role.ADMIN).get(url(book, "crm:deal-list"), {"sort": sort})

    assert deal_names(response) == expected


def test_sort_links_keep_the_filters_and_toggle_the_direction(client, book):
    response = login(client, book, Role.ADMIN).get(
        url(book, "crm:deal-list"), {"sort": "amount", "status": "open", "page": "1"}
    )

    link = response.context["sorts"]["amount"]
    assert link.direction == "asc"
    assert "sort=-amount" in link.url
    assert "status=open" in link.url
    assert "page=" not in link.url


def test_a_rep_cannot_filter_by_another_reps_deals(client, book):
    login(client, book, Role.REP)

    response = client.get(url(book, "crm:deal-list"), {"owner": book.org.east_rep.pk})

    assert set(deal_names(response)) == {"Rep renewal"}
    assert "Filter ignored" in response.content.decode()


def test_a_bad_date_is_reported_and_ignored(client, book):
    login(client, book, Role.ADMIN)

    response = client.get(url(book, "crm:deal-list"), {"close_from": "2025-13-45"})

    assert len(deal_names(response)) == 4
    assert "Filter ignored. Close from: Enter a valid date." in response.content.decode()


def test_a_backwards_date_range_is_reported(client, book):
    login(client, book, Role.ADMIN)

    response = client.get(
        url(book, "crm:deal-list"), {"close_from": "2025-06-01", "close_to": "2025-01-01"}
    )

    assert set(deal_names(response)) == {"Manager expansion", "East big deal"}
    assert "before its start" in response.content.decode()


def test_the_deal_list_pages_fifty_rows_in_a_constant_number_of_queries(
    client, book, django_assert_max_num_queries
):
    with tenant_context(book.org.tenant):
        people = [PersonFactory() for _ in range(5)]
        for n in range(60):
            DealFactory(owner=people[n % 5], account=book.shared, stage=book.stages["proposal"],
                        amount=Decimal("10.10"))
    login(client, book, Role.ADMIN)

    with django_assert_max_num_queries(15):
        first = client.get(url(book, "crm:deal-list"))
    second = client.get(url(book, "crm:deal-list"), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 14
    assert first.context["total"].amount == Decimal("52706.00")


# -- deal detail ---------------------------------------------------------------------------------


@pytest.fixture
def moved_deal(book) -> Deal:
    """The colleague's deal: created in Prospect on 1 March, Proposal on 11 March by the admin."""
    with tenant_context(book.org.tenant):
        deal = DealFactory(name="Moving deal", owner=book.org.colleague, account=book.shared,
                           stage=book.stages["prospect"], amount=Decimal("500.00"))
        DealStageHistory.objects.create(
            deal=deal, from_stage=None, to_stage=book.stages["prospect"],
            changed_at=datetime.datetime(2025, 3, 1, 9, tzinfo=UTC),
        )
        deal_change_stage(deal=deal, stage=book.stages["proposal"],
                          actor=book.org.users[Role.ADMIN],
                          at=datetime.datetime(2025, 3, 11, 9, tzinfo=UTC))
        deal_change_stage(deal=deal, stage=book.stages["won"],
                          at=datetime.datetime(2025, 3, 25, 15, tzinfo=UTC))
    return deal


@pytest.mark.smoke
def test_deal_detail_shows_the_stage_history_with_days_in_stage(client, book, moved_deal):
    response = login(client, book, Role.MANAGER).get(
        url(book, "crm:deal-detail", pk=moved_deal.pk)
    )

    assert response.status_code == 200
    steps = [
        (s.from_stage.name if s.from_stage else None, s.to_stage.name, s.days_in_stage)
        for s in response.context["steps"]
    ]
    assert steps == [
        (None, "Prospect", 10),
        ("Prospect", "Proposal", 14),
        ("Proposal", "Closed won", None),  # the deal rests in its final stage
    ]
    body = response.content.decode()
    admin = book.org.users[Role.ADMIN]
    assert (admin.get_full_name() or admin.username) in body
    assert "USD</span> 500.00" in body


def test_an_open_deal_counts_days_in_its_current_stage_so_far(client, book):
    with tenant_context(book.org.tenant):
        deal = book.deals["colleague"]
        deal_change_stage(deal=deal, stage=book.stages["prospect"],
                          at=datetime.datetime.now(tz=UTC) - datetime.timedelta(days=3, hours=1))

    response = login(client, book, Role.ADMIN).get(url(book, "crm:deal-detail", pk=deal.pk))

    last = response.context["steps"][-1]
    assert (last.days_in_stage, last.is_current) == (3, True)
    assert "so far" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "deal", "status"),
    [
        (Role.REP, "rep", 200),
        (Role.REP, "colleague", 404),
        (Role.REP, "east", 404),
        (Role.MANAGER, "colleague", 200),
        (Role.MANAGER, "east", 404),
        (Role.FINANCE, "east", 200),
        (Role.ADMIN, "east", 200),
    ],
)
def test_deal_detail_is_404_for_deals_outside_the_members_view(client, book, role, deal, status):
    login(client, book, role)

    response = client.get(url(book, "crm:deal-detail", pk=book.deals[deal].pk))

    assert response.status_code == status


def test_deal_detail_of_a_missing_deal_is_404(client, book):
    response = login(client, book, Role.ADMIN).get(url(book, "crm:deal-detail", pk=987654))

    assert response.status_code == 404


# -- accounts ------------------------------------------------------------------------------------


def account_names(response) -> list[str]:
    return [account.name for account in response.context["page"].object_list]


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, ["Eastern Widgets", "Shared Industries"]),
        (Role.FINANCE, ["Eastern Widgets", "Shared Industries"]),
        (Role.MANAGER, ["Shared Industries"]),
        (Role.REP, ["Shared Industries"]),
    ],
)
def test_each_role_sees_the_accounts_it_has_deals_on(client, book, role, expected):
    response = login(client, book, role).get(url(book, "crm:account-list"))

    assert response.status_code == 200
    assert account_names(response) == expected


def test_account_deal_counts_include_only_the_deals_the_member_sees(client, book):
    for role, count in [(Role.ADMIN, 3), (Role.MANAGER, 3), (Role.REP, 1)]:
        response = login(client, book, role).get(url(book, "crm:account-list"))
        shared = next(a for a in response.context["page"].object_list if a.pk == book.shared.pk)
        assert shared.deal_count == count, role


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "widg"}, ["Eastern Widgets"]),
        ({"segment": "enterprise"}, ["Shared Industries"]),
        ({"industry": "Manufacturing"}, ["Eastern Widgets"]),
        ({"country": "US"}, ["Shared Industries"]),
        ({"sort": "-name"}, ["Shared Industries", "Eastern Widgets"]),
    ],
)
def test_the_account_list_searches_filters_and_sorts(client, book, params, expected):
    response = login(client, book, Role.ADMIN).get(url(book, "crm:account-list"), params)

    assert account_names(response) == expected


def test_the_account_list_pages_fifty_rows_in_a_constant_number_of_queries(
    client, book, django_assert_max_num_queries
):
    with tenant_context(book.org.tenant):
        for n in range(60):
            DealFactory(owner=book.org.rep, account=AccountFactory(name=f"Acct {n:02d}"),
                        stage=book.stages["prospect"])
    login(client, book, Role.REP)

    with django_assert_max_num_queries(14):
        first = client.get(url(book, "crm:account-list"))
    last = client.get(url(book, "crm:account-list"), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(last.context["page"].object_list) == 11


def test_account_detail_lists_only_the_deals_the_member_sees(client, book):
    rep_view = login(client, book, Role.REP).get(url(book, "crm:account-detail", pk=book.shared.pk))
    admin_view = login(client, book, Role.ADMIN).get(
        url(book, "crm:account-detail", pk=book.shared.pk)
    )

    assert deal_names(rep_view) == ["Rep renewal"]
    assert "Colleague new logo" not in rep_view.content.decode()
    assert set(deal_names(admin_view)) == {"Rep renewal", "Colleague new logo",
                                           "Manager expansion"}
    assert admin_view.context["total"].amount == Decimal("2100.00")


@pytest.mark.parametrize(
    ("role", "status"), [(Role.REP, 404), (Role.MANAGER, 404), (Role.FINANCE, 200)]
)
def test_account_detail_is_404_without_a_visible_deal_on_it(client, book, role, status):
    response = login(client, book, role).get(
        url(book, "crm:account-detail", pk=book.east_only.pk)
    )

    assert response.status_code == status


# -- isolation and bad input ---------------------------------------------------------------------


def test_an_outsider_gets_404_for_every_account_and_deal_page(client, book, admin_b):
    client.force_login(admin_b)
    urls = [
        url(book, "crm:deal-list"),
        url(book, "crm:account-list"),
        url(book, "crm:deal-detail", pk=book.deals["rep"].pk),
        url(book, "crm:account-detail", pk=book.shared.pk),
    ]

    assert [client.get(u).status_code for u in urls] == [404, 404, 404, 404]


def test_ids_of_another_tenants_rows_are_404_here_for_every_role(client, book, tenant_b):
    with tenant_context(tenant_b):
        foreign = DealFactory(stage=StageFactory(name="Foreign stage"))
    for role in Role:
        login(client, book, role)
        assert client.get(url(book, "crm:deal-detail", pk=foreign.pk)).status_code == 404
        assert (
            client.get(url(book, "crm:account-detail", pk=foreign.account_id)).status_code
            == 404
        )
        # As a filter value it is simply not a valid choice.
        response = client.get(url(book, "crm:deal-list"), {"owner": foreign.owner_id})
        assert response.status_code == 200
        assert "Filter ignored" in response.content.decode()


def test_posting_to_a_detail_page_is_refused_without_a_change(client, book):
    login(client, book, Role.ADMIN)

    response = client.post(url(book, "crm:deal-detail", pk=book.deals["rep"].pk))

    assert response.status_code == 405


JUNK = [
    {"owner": "abc"},
    {"owner": "999999999999999999999"},
    {"owner": "-1"},
    {"stage": "1 OR 1=1"},
    {"period": "99999"},
    {"close_from": "yesterday"},
    {"close_to": "2025-02-30"},
    {"close_from": "99999-01-01"},
    {"status": "maybe"},
    {"deal_type": "\x00"},
    {"q": "\x00"},
    {"q": "%"},
    {"account": "[]"},
    {"sort": ";DROP TABLE crm_deal"},
    {"sort": "owner__user__password"},
    {"sort": ""},
    {"page": "abc"},
    {"page": "0"},
    {"page": "1e9"},
    {"page": "99999999999999999999"},
]


@pytest.mark.parametrize("params", JUNK)
def test_junk_in_deal_list_parameters_never_fails(client, book, params):
    response = login(client, book, Role.MANAGER).get(url(book, "crm:deal-list"), params)

    assert response.status_code == 200
    # Ignored junk widens nothing: the manager still sees only their team's deals.
    assert set(deal_names(response)) <= {"Rep renewal", "Colleague new logo", "Manager expansion"}


@pytest.mark.parametrize(
    "params",
    [
        {"segment": "huge"},
        {"industry": "\x00"},
        {"country": "ZZZ"},
        {"q": "\x00"},
        {"sort": "-deals;--"},
        {"page": "last"},
    ],
)
def test_junk_in_account_list_parameters_never_fails(client, book, params):
    response = login(client, book, Role.REP).get(url(book, "crm:account-list"), params)

    assert response.status_code == 200
    assert account_names(response) == ["Shared Industries"]
