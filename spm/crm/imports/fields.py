"""What each import kind accepts: its fields, the header names CRMs export them under (Salesforce,
HubSpot and plain spellings), and how stored choices are written in those exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import models

from spm.crm.models import ActivityKind, DealType, ForecastCategory, LeadStatus, Segment
from spm.org.models import SellerRole

from .cleaning import normal_key


@dataclass(frozen=True)
class Field:
    """One importable column.

    `name` is the key the upsert takes (a model attname). `kind` picks the cleaner. `empty` says
    what an empty cell means: "blank" stores "", "null" stores nothing (NULL), "omit" leaves the
    stored value alone (or the model default for a new row).
    """

    name: str
    label: str
    kind: str
    aliases: tuple[str, ...]
    required: bool = False
    max_length: int = 0
    empty: str = "blank"
    choices: Mapping[str, str] = field(default_factory=dict)
    negative: bool = False
    max_digits: int = 14
    # False: read to check or derive other values, never written as a column of its own.
    stored: bool = True
    # A required field whose column may be left out when one of these fields has a column.
    or_from: tuple[str, ...] = ()

    @property
    def allowed(self) -> str:
        labels = getattr(self.choices, "labels", None)
        return ", ".join(labels.values() if labels else dict.fromkeys(self.choices.values()))

    def label_of(self, value: str) -> str:
        return getattr(self.choices, "labels", {}).get(value, value)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    key: str  # the field rows are matched on
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


class ChoiceMap(dict):
    """normal_key(spelling) -> stored value, plus `labels` (stored value -> label) for messages."""

    labels: dict[str, str]


def _choices(choices: type[models.TextChoices], **synonyms: tuple[str, ...]) -> ChoiceMap:
    mapping = ChoiceMap({normal_key(str(value)): str(value) for value in choices.values})
    mapping.update({normal_key(str(label)): str(value) for value, label in choices.choices})
    for value, spellings in synonyms.items():
        mapping.update({normal_key(s): value for s in spellings})
    mapping.labels = {str(value): str(label) for value, label in choices.choices}
    return mapping


ROLE_CHOICES = _choices(
    SellerRole,
    rep=("AE", "Account Executive", "Sales Rep", "Sales Representative", "Seller"),
    manager=("Sales Manager", "First Line Manager", "Team Lead", "Director"),
    sdr=("BDR", "SDR/BDR", "Sales Development Representative",
         "Business Development Representative"),
    overlay=("Overlay", "Specialist", "Solutions Engineer", "Sales Engineer", "SE"),
)
SEGMENT_CHOICES = _choices(
    Segment,
    smb=("Small Business", "Small", "Small and Medium Business", "SMB/Small"),
    mid_market=("Mid Market", "Midmarket", "MM", "Mid", "Midsize", "Commercial"),
    enterprise=("Ent", "Large", "Large Enterprise", "Strategic"),
)
FORECAST_CHOICES = _choices(
    ForecastCategory,
    best_case=("Best Case", "Upside"),
    closed=("Closed Won", "Won"),
    omitted=("Omit", "Not Forecasted", "Closed Lost", "Lost"),
)
DEAL_TYPE_CHOICES = _choices(
    DealType,
    new=("New", "New Business", "New Customer", "newbusiness", "New Logo"),
    expansion=("Existing Business", "Existing Customer - Upgrade", "Upsell", "Upgrade",
               "Cross-sell", "Add-on", "existingbusiness", "Expansion"),
    renewal=("Existing Customer - Replacement", "Existing Customer - Downgrade", "Renewal",
             "Renew"),
)
LEAD_STATUS_CHOICES = _choices(
    LeadStatus,
    new=("Open", "Open - Not Contacted", "Not Contacted", "Unworked"),
    working=("Working - Contacted", "Contacted", "In Progress", "Attempted to Contact",
             "Connected", "Qualified", "Nurturing"),
    converted=("Closed - Converted", "Open Deal", "Customer"),
    disqualified=("Closed - Not Converted", "Unqualified", "Bad Timing", "Junk", "Lost"),
)
ACTIVITY_CHOICES = _choices(
    ActivityKind,
    call=("Phone Call", "Calls", "Log a Call", "Phone"),
    email=("Emails", "Sent Email", "E-mail", "List Email"),
    meeting=("Meetings", "Event", "Video Call", "Visit"),
    demo=("Product Demo", "Demonstration", "Demos"),
)

PERSON_REF = "person"  # resolved by employee id, email, or a name that is unique
# Pipedrive and Dynamics keep a won or lost deal in the stage it was in and say so in a status.
DEAL_STATUSES = ChoiceMap({
    **dict.fromkeys(("open", "inprogress", "active", "onhold", "pending"), "open"),
    **dict.fromkeys(("won", "closedwon", "dealwon", "win"), "won"),
    **dict.fromkeys(("lost", "closedlost", "deallost", "canceled", "cancelled", "outsold",
                     "disqualified", "notinterested"), "lost"),
})
DEAL_STATUSES.labels = {"open": "Open", "won": "Won", "lost": "Lost"}

PEOPLE = Kind(
    name="people",
    label="People",
    key="employee_id",
    fields=(
        Field("employee_id", "Employee ID", "key", (
            "Employee ID", "Employee Number", "Employee No", "Employee #", "Emp ID", "Emp #",
            "EEID", "Worker ID", "Associate ID", "Personnel Number", "Staff ID", "Employee Code",
            "Person ID", "External ID", "ID"), required=True, max_length=64),
        Field("name", "Name", "text", (
            "Name", "Full Name", "Employee Name", "Display Name", "Preferred Full Name", "Worker",
            "Worker Name", "Legal Name", "Employee"),
            required=True, max_length=200, or_from=("first_name", "last_name")),
        Field("preferred_first_name", "Preferred first name", "text", (
            "Preferred First Name", "Preferred Name - First Name", "Nickname"),
            max_length=200, stored=False),
        Field("first_name", "First name", "text", (
            "First Name", "Legal First Name", "Legal Name - First Name", "Given Name",
            "Forename", "First"), max_length=200, stored=False),
        Field("last_name", "Last name", "text", (
            "Last Name", "Legal Last Name", "Legal Name - Last Name", "Surname", "Family Name",
            "Last"), max_length=200, stored=False),
        Field("email", "Email", "email", (
            "Work Email", "Primary Work Email", "Work Email Address", "Business Email",
            "Company Email", "Email - Work", "Email - Primary Work", "Email", "Email Address",
            "E-mail"), required=True),
        Field("title", "Title", "text", (
            "Business Title", "Job Title", "Title", "Position Title", "Job Profile", "Position",
            "Designation", "Job"), max_length=200),
        Field("role", "Role", "choice", ("Role", "Seller Role", "Sales Role"), empty="omit",
              choices=ROLE_CHOICES),
        Field("manager", "Manager", "manager", (
            "Manager Employee ID", "Manager ID", "Manager Employee Number", "Manager Emp ID",
            "Supervisor Employee ID", "Supervisor ID", "Supervisor EID", "Reports To ID",
            "Reports To Employee ID", "Manager Email", "Manager Work Email",
            "Manager Email Address", "Supervisor Email", "Reports To Email", "Manager",
            "Manager Name", "Reports To", "Supervisor", "Supervisor Name", "Line Manager",
            "Direct Manager", "Worker's Manager"), stored=False),
        Field("hire_date", "Hire date", "day", (
            "Hire Date", "Original Hire Date", "Most Recent Hire Date", "Start Date",
            "Date Hired", "Date of Hire", "Hired On", "Employment Start Date"), empty="null"),
        Field("termination_date", "Termination date", "day", (
            "Termination Date", "Term Date", "Terminated On", "Date Terminated", "End Date",
            "Leave Date", "Last Day of Work", "Employment End Date"), empty="null"),
        Field("payout_currency", "Payout currency", "currency", (
            "Payout Currency", "Currency", "Pay Currency")),
    ),
)

ACCOUNTS = Kind(
    name="accounts",
    label="Accounts",
    key="external_id",
    fields=(
        Field("external_id", "Account ID", "key", (
            "Account ID", "Account ID (18)", "Company ID", "Organization ID",
            "Organization - ID", "(Do Not Modify) Account", "Record ID", "External ID", "ID"),
            required=True, max_length=64),
        Field("name", "Account name", "text", (
            "Account Name", "Company Name", "Organization Name", "Organization - Name", "Name",
            "Company", "Organization", "Account"), required=True, max_length=255),
        Field("owner_id", "Owner", PERSON_REF, (
            "Account Owner Email", "Company Owner Email", "Owner Email", "Owner Employee ID",
            "Account Owner", "Company Owner", "Organization - Owner", "Owner", "Owner Name")),
        Field("industry", "Industry", "text", ("Industry",), max_length=100),
        Field("segment", "Segment", "choice", (
            "Segment", "Account Segment", "Customer Segment", "Market Segment"),
            empty="omit", choices=SEGMENT_CHOICES),
        Field("country", "Country", "country", (
            "Billing Country", "Country", "Country/Region", "Country Code")),
        Field("region", "Region", "text", (
            "Billing State/Province", "State/Region", "Region", "State", "Province",
            "Billing State"), max_length=100),
        Field("postal_code", "Postal code", "text", (
            "Billing Zip/Postal Code", "Postal Code", "Zip", "Zip Code", "Postcode",
            "Billing Postal Code"), max_length=20),
        Field("employees", "Employees", "count", (
            "Employees", "Number of Employees", "NumberOfEmployees", "Headcount"), empty="null"),
        Field("annual_revenue", "Annual revenue", "money", (
            "Annual Revenue", "AnnualRevenue", "Revenue"), empty="null", max_digits=16),
        Field("potential", "Potential", "money", (
            "Potential", "Account Potential", "Revenue Potential"), empty="null"),
    ),
)

DEALS = Kind(
    name="deals",
    label="Deals",
    key="external_id",
    fields=(
        Field("external_id", "Deal ID", "key", (
            "Opportunity ID", "Opportunity ID (18)", "Deal ID", "Deal - ID",
            "(Do Not Modify) Opportunity", "Record ID", "External ID", "ID"),
            required=True, max_length=64),
        Field("name", "Deal name", "text", (
            "Opportunity Name", "Deal Name", "Deal - Title", "Topic", "Name"), max_length=255),
        Field("account_id", "Account", "account", (
            "Account ID", "Company ID", "Associated Company IDs (Primary)",
            "Associated Company ID", "Associated Company IDs", "Account External ID",
            "Organization ID", "Deal - Organization ID"),
            required=True, or_from=("account_name",)),
        Field("account_name", "Account name", "account_name", (
            "Account Name", "Associated Company (Primary)", "Associated Company",
            "Associated Company Name", "Company Name", "Company", "Organization",
            "Deal - Organization", "Organization Name", "Potential Customer", "Customer",
            "Account"), stored=False),
        Field("owner_id", "Owner", PERSON_REF, (
            "Owner Employee ID", "Owner Email", "Opportunity Owner Email", "Deal Owner Email",
            "Opportunity Owner", "Deal Owner", "Deal - Owner", "Owner", "Owner Name",
            "Owner Full Name", "Sales Rep", "Salesperson"), required=True),
        Field("amount", "Amount", "money", (
            "Amount", "Deal Amount", "Opportunity Amount", "Deal - Value", "Value",
            "Est. Revenue", "Estimated Revenue"), required=True),
        Field("currency", "Currency", "currency", (
            "Currency", "Opportunity Currency", "Deal Currency", "Currency Code",
            "Deal currency code", "Deal - Currency", "Currency ISO Code"), empty="omit"),
        Field("stage_id", "Stage", "stage", (
            "Stage", "Deal Stage", "Stage Name", "Opportunity Stage", "Deal - Stage",
            "Sales Stage", "Pipeline Phase"), required=True),
        Field("deal_status", "Status", "choice", (
            "Status", "Deal Status", "Deal - Status", "Opportunity Status"), stored=False,
            choices=DEAL_STATUSES),
        Field("forecast_category", "Forecast category", "choice", (
            "Forecast Category", "Forecast Category Name"), empty="omit",
            choices=FORECAST_CHOICES),
        Field("created_date", "Created date", "day", (
            "Created Date", "Create Date", "Created On", "Date Created", "Deal - Deal created",
            "Deal created"), empty="omit"),
        Field("close_date", "Close date", "day", (
            "Close Date", "Expected Close Date", "Deal - Expected close date",
            "Est. Close Date", "Estimated Close Date"), required=True),
        Field("product_line", "Product line", "text", (
            "Product Family", "Product Line", "Product Category", "Product"), max_length=100),
        Field("deal_type", "Type", "choice", ("Type", "Deal Type", "Opportunity Type"),
              empty="omit", choices=DEAL_TYPE_CHOICES),
        Field("units", "Units", "count", ("Quantity", "Units", "Total Quantity", "Seats"),
              empty="omit"),
        Field("lost_reason", "Lost reason", "text", (
            "Lost Reason", "Closed Lost Reason", "Loss Reason", "Reason Lost",
            "Deal - Lost reason"), max_length=255),
        Field("margin", "Margin", "money", ("Margin", "Gross Margin"), empty="null",
              negative=True),
        Field("stage_changed_at", "Stage changed at", "moment", (
            "Stage Changed At", "Last Stage Change Date", "Stage Change Date"), empty="omit"),
    ),
)

LEADS = Kind(
    name="leads",
    label="Leads",
    key="external_id",
    fields=(
        Field("external_id", "Lead ID", "key", ("Lead ID", "Record ID", "External ID", "ID"),
              required=True, max_length=64),
        Field("source", "Source", "text", (
            "Lead Source", "Source", "Original Source", "Original Source Type"), max_length=64),
        Field("status", "Status", "choice", ("Lead Status", "Status"), empty="omit",
              choices=LEAD_STATUS_CHOICES),
        Field("owner_id", "Owner", PERSON_REF, (
            "Owner Employee ID", "Owner Email", "Lead Owner Email", "Lead Owner", "Contact Owner",
            "Owner"), empty="null"),
        Field("account_id", "Account", "account", (
            "Account ID", "Company ID", "Converted Account ID", "Associated Company ID"),
            empty="null"),
        Field("converted_deal_id", "Converted deal", "deal", (
            "Converted Opportunity ID", "Converted Deal ID", "Opportunity ID", "Deal ID"),
            empty="null"),
        Field("created_at", "Created at", "moment", (
            "Created Date", "Create Date", "Created At", "Created"), required=True),
        Field("first_response_at", "First response at", "moment", (
            "First Response At", "First Response Date", "First Response", "First Contact Date"),
            empty="null"),
        Field("converted_at", "Converted at", "moment", (
            "Converted Date", "Conversion Date", "Converted At"), empty="null"),
    ),
)

ACTIVITIES = Kind(
    name="activities",
    label="Activities",
    key="external_id",
    fields=(
        Field("external_id", "Activity ID", "key", (
            "Activity ID", "Task ID", "Event ID", "Engagement ID", "Record ID", "External ID",
            "ID"), required=True, max_length=64),
        Field("kind", "Type", "choice", (
            "Activity Type", "Type", "Task Subtype", "Task Type", "Engagement Type", "Kind"),
            required=True, choices=ACTIVITY_CHOICES),
        Field("person_id", "Person", PERSON_REF, (
            "Employee ID", "Assigned To Email", "Owner Email", "Assigned To", "Activity Owner",
            "Activity assigned to", "Owner", "Person"), required=True),
        Field("deal_id", "Deal", "deal", (
            "Opportunity ID", "Deal ID", "Associated Deal ID", "Related To ID"), empty="null"),
        Field("lead_id", "Lead", "lead", ("Lead ID", "Associated Lead ID"), empty="null"),
        Field("at", "Date", "moment", (
            "Activity Date", "Date", "Due Date", "Start", "Start Date Time", "At", "Timestamp"),
            required=True),
    ),
)

KINDS: dict[str, Kind] = {k.name: k for k in (PEOPLE, ACCOUNTS, DEALS, LEADS, ACTIVITIES)}


@dataclass
class HeaderMatch:
    columns: dict[str, int]  # field name -> column position
    headers: dict[str, str]  # field name -> header as written in the file
    ignored: list[str]  # headers that feed no field


def match_headers(kind: Kind, headers: list[str]) -> HeaderMatch:
    """Pick a column for every field; among several candidates the earlier alias wins."""
    by_key: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        if header:
            by_key.setdefault(normal_key(header), []).append(position)
    columns: dict[str, int] = {}
    for spec in kind.fields:
        for alias in spec.aliases:
            positions = [p for p in by_key.get(normal_key(alias), []) if p not in columns.values()]
            if positions:
                columns[spec.name] = positions[0]
                break
    used = set(columns.values())
    ignored = [h for p, h in enumerate(headers) if h and p not in used]
    return HeaderMatch(
        columns=columns,
        headers={name: headers[p] for name, p in columns.items()},
        ignored=ignored,
    )
