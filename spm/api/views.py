"""API endpoints under /api/v1/: list, retrieve (by id or by the CRM's key) and bulk upsert.

Every request is answered inside the tenant of its API key: `TenantApiViewSet.dispatch` resolves
the key first (a platform lookup), then runs authentication, throttling, the view and the
rendering of the response inside `tenant_context(key.tenant)`, so nothing is read or serialised
for anyone else. Writes go through the CRM services, the same ones the file imports use.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from spm.crm import services as crm_services
from spm.crm.models import Account, Activity, Deal, DealStageHistory, Lead
from spm.org import services as org_services
from spm.org.bulk import RowsInvalid
from spm.org.models import Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import ApiKey

from . import filters
from .authentication import ApiKeyAuthentication, resolve_api_key
from .permissions import HasTenantApiKey
from .serializers import (
    ACTIVITY_REFERENCES,
    DEAL_REFERENCES,
    LEAD_REFERENCES,
    MAX_ROWS,
    AccountRowSerializer,
    AccountSerializer,
    ActivityRowSerializer,
    ActivitySerializer,
    DealDetailSerializer,
    DealRowSerializer,
    DealSerializer,
    LeadRowSerializer,
    LeadSerializer,
    PersonRowSerializer,
    PersonSerializer,
    Reference,
    RowErrorsSerializer,
    RowSerializer,
    UpsertResultSerializer,
    bulk_request,
    resolve_references,
)
from .throttling import ApiKeyRateThrottle

KEY_IN_PATH = re.compile(r"^[^\x00-\x1f]{1,64}$")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large. Send the rows in several requests."
    default_code = "payload_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Another request wrote the same records at the same time. Send it again."
    default_code = "conflict"


class SafeJSONParser(JSONParser):
    """JSON, with a 400 rather than a crash for nesting too deep to parse.

    The body's size is bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE before parsing.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("The body is nested too deeply to be read.") from None


class ApiPagination(PageNumberPagination):
    """Pages of 100, or `page_size` up to 1000; a page size out of range is a 400, not ignored."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.isascii() and raw.isdigit() and len(raw) <= 4
        if not digits or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer", "minimum": 1, "maximum": self.max_page_size
                }
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


FIELD_ERRORS = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="A query parameter is unknown or invalid: parameter name -> reasons.",
)


class ApiAutoSchema(AutoSchema):
    """Documents ids as integers, each operation in words, and the error answers of each."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if "{id}" in self.path:
            parameters.append(
                OpenApiParameter(
                    "id", {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
                    OpenApiParameter.PATH, description="The record's id in SPM.",
                )
            )
        return parameters

    def get_description(self) -> str:
        action = getattr(self.view, "action", None)
        model = getattr(self.view, "model", None)
        if model is None or action not in ("list", "retrieve"):
            return super().get_description()
        plural = model._meta.verbose_name_plural
        if action == "list":
            return (
                f"The {plural} of the key's workspace, {ApiPagination.page_size} a page "
                f"(`page_size` up to {ApiPagination.max_page_size}), narrowed by the filters."
            )
        return f"One of the {plural}, by its id in SPM."

    def get_response_serializers(self) -> Any:
        base = super().get_response_serializers()
        if isinstance(base, dict):
            responses = dict(base)
        else:
            responses = {201 if self._is_create_operation() else 200: base}
        responses.setdefault(401, ErrorSerializer)
        responses.setdefault(429, ErrorSerializer)
        if self.method == "GET":
            responses.setdefault(404, ErrorSerializer)
            responses.setdefault(400, FIELD_ERRORS)
        else:
            responses.setdefault(409, ErrorSerializer)
            responses.setdefault(413, ErrorSerializer)
        return responses


class TenantApiViewSet(viewsets.GenericViewSet):
    """Base of every API view: key authentication, the key's tenant, JSON only, per-key limits."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasTenantApiKey]
    throttle_classes = [ApiKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser]
    pagination_class = ApiPagination
    filter_backends = [filters.TenantFilterBackend]
    schema = ApiAutoSchema()

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        # DRF copies the principal onto the Django request too, where audit code (the history
        # of people and configuration) would take it for a user row. No person acted: a system
        # did, so the Django request stays anonymous.
        request._request.user = AnonymousUser()

    def allowed_query_parameters(self) -> set[str]:
        return set()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # After authentication, so a caller without a key learns nothing about parameters.
        unknown = sorted(set(request.query_params) - self.allowed_query_parameters())
        if unknown:
            # A mistyped filter would otherwise be ignored and return everything.
            raise exceptions.ValidationError(
                {name: ["Is not a known query parameter."] for name in unknown}
            )

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge()
        return super().handle_exception(exc)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = resolve_api_key(request)
        if not isinstance(key, ApiKey):
            # No tenant is entered: DRF answers 401 before the view can read anything.
            return super().dispatch(request, *args, **kwargs)
        key.touch()
        with tenant_context(key.tenant):
            response = super().dispatch(request, *args, **kwargs)
            # Rendered here, while the tenant is active, like TenantMiddleware does for pages.
            response.render()
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response


class FactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantApiViewSet):
    """List, retrieve by id, retrieve by key, and bulk upsert for one kind of CRM fact."""

    lookup_value_regex = r"[0-9]{1,18}"
    model: type[Any]
    key: str = "external_id"
    row_serializer_class: type[RowSerializer]
    detail_serializer_class: type[serializers.Serializer] | None = None
    references: Sequence[Reference] = ()

    def upsert(self, *, rows: list[dict[str, Any]]) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation runs with no tenant: it only needs to know the model.
            return self.model.unscoped.none()
        return self.tenant_queryset()

    def tenant_queryset(self) -> QuerySet:
        raise NotImplementedError

    def allowed_query_parameters(self) -> set[str]:
        if self.action != "list":
            return set()
        return {
            *filters.query_parameters(self.filterset_class),
            ApiPagination.page_query_param,
            ApiPagination.page_size_query_param,
        }

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("retrieve", "by_key") and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        if self.action == "bulk":
            return bulk_request(self.row_serializer_class, self.bulk_request_name)
        return self.serializer_class

    @property
    def bulk_request_name(self) -> str:
        # The schema adds "Request" to input components: DealBulk -> DealBulkRequest.
        return self.row_serializer_class.__name__.replace("RowSerializer", "Bulk")

    def retrieve_by_key(self, key: str) -> Response:
        if not KEY_IN_PATH.match(key):
            raise Http404
        instance = self.get_queryset().filter(**{self.key: key}).first()
        if instance is None:
            raise Http404
        return Response(self.get_serializer(instance).data)

    def bulk_upsert(self, request: Request) -> Response:
        rows = self._rows_of(request.data)
        cleaned: list[dict[str, Any]] = []
        errors: dict[str, Any] = {}
        for index, row in enumerate(rows):
            serializer = self.row_serializer_class(data=row)
            if serializer.is_valid():
                cleaned.append(dict(serializer.validated_data))
            else:
                errors[str(index)] = serializer.errors
        if errors:
            raise exceptions.ValidationError({"rows": errors})
        resolved, errors = resolve_references(cleaned, self.references)
        if errors:
            raise exceptions.ValidationError({"rows": errors})
        try:
            result = self.upsert(rows=resolved)
        except RowsInvalid as exc:
            raise exceptions.ValidationError({"rows": self._row_errors(exc)}) from None
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"rows": exc.messages}) from None
        except IntegrityError as exc:
            if not _is_unique_violation(exc):
                raise
            raise Conflict() from None
        return Response(UpsertResultSerializer(dataclasses.asdict(result)).data)

    @staticmethod
    def _rows_of(data: Any) -> list[Any]:
        if not isinstance(data, dict):
            raise exceptions.ValidationError({"rows": ['Send an object: {"rows": [...]}.']})
        unknown = sorted(set(data) - {"rows"})
        if unknown:
            raise exceptions.ValidationError({key: ["Is not a known field."] for key in unknown})
        rows = data.get("rows")
        if not isinstance(rows, list):
            raise exceptions.ValidationError({"rows": ["Send a list of rows."]})
        if not rows:
            raise exceptions.ValidationError({"rows": ["Send at least one row."]})
        if len(rows) > MAX_ROWS:
            raise exceptions.ValidationError(
                {"rows": [f"Send at most {MAX_ROWS} rows per request, not {len(rows)}."]}
            )
        return rows

    def _row_errors(self, exc: RowsInvalid) -> dict[str, dict[str, list[str]]]:
        # The services speak in model attnames (account_id); the API in its own field names.
        names = {ref.attname: ref.field for ref in self.references}
        grouped: dict[str, dict[str, list[str]]] = {}
        for error in exc.row_errors:
            field = names.get(error.field, error.field)
            message = error.message[:1].upper() + error.message[1:]
            grouped.setdefault(str(error.index), {}).setdefault(field, []).append(
                message if message.endswith(".") else f"{message}."
            )
        return grouped


def _is_unique_violation(exc: IntegrityError) -> bool:
    # Two requests inserting the same new key at once: the later one waits, then fails here.
    cause = exc.__cause__
    return getattr(cause, "pgcode", None) == "23505" or "UNIQUE constraint failed" in str(exc)


def _by_key_action(url_path: str, key_name: str) -> Callable:
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "key", str, OpenApiParameter.PATH, description=f"The record's {key_name}."
            )
        ]
    )
    @action(detail=False, methods=["get"], url_path=rf"{url_path}/(?P<key>[^/]+)",
            url_name="by-key")
    def by_key(self: FactViewSet, request: Request, key: str) -> Response:
        return self.retrieve_by_key(key)

    by_key.__doc__ = f"One record by its {key_name}."
    return by_key


def _bulk_action() -> Callable:
    @extend_schema(
        responses={
            200: UpsertResultSerializer,
            400: RowErrorsSerializer,
            401: ErrorSerializer,
            409: ErrorSerializer,
            413: ErrorSerializer,
            429: ErrorSerializer,
        }
    )
    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self: FactViewSet, request: Request) -> Response:
        return self.bulk_upsert(request)

    bulk.__doc__ = (
        f"Create or update up to {MAX_ROWS} records by their key, all or none. A row may leave "
        "out fields it does not change. Errors come back per row (0-based position in `rows`) "
        'and field: {"rows": {"3": {"amount": ["..."]}}}.'
    )
    return bulk


class PersonViewSet(FactViewSet):
    """People who sell or manage, by employee id."""

    model = Person
    serializer_class = PersonSerializer
    row_serializer_class = PersonRowSerializer
    filterset_class = filters.PersonFilter
    key = "employee_id"

    def tenant_queryset(self) -> QuerySet[Person]:
        return Person.objects.order_by("name", "pk")

    def upsert(self, *, rows: list[dict[str, Any]]) -> Any:
        return org_services.people_upsert(rows=rows, actor=None)

    by_key = _by_key_action("by-employee-id", "employee id")
    bulk = _bulk_action()


class AccountViewSet(FactViewSet):
    model = Account
    serializer_class = AccountSerializer
    row_serializer_class = AccountRowSerializer
    filterset_class = filters.AccountFilter

    def tenant_queryset(self) -> QuerySet[Account]:
        return Account.objects.order_by("name", "pk")

    def upsert(self, *, rows: list[dict[str, Any]]) -> Any:
        return crm_services.accounts_upsert(rows=rows, actor=None)

    by_key = _by_key_action("by-external-id", "external id")
    bulk = _bulk_action()


class DealViewSet(FactViewSet):
    model = Deal
    serializer_class = DealSerializer
    detail_serializer_class = DealDetailSerializer
    row_serializer_class = DealRowSerializer
    filterset_class = filters.DealFilter
    references = DEAL_REFERENCES

    def tenant_queryset(self) -> QuerySet[Deal]:
        deals = Deal.objects.select_related("account", "owner", "stage").order_by(
            "-close_date", "-pk"
        )
        if self.action in ("retrieve", "by_key"):
            history = DealStageHistory.objects.select_related("from_stage", "to_stage")
            deals = deals.prefetch_related(
                Prefetch("stage_history", queryset=history.order_by("changed_at", "pk"))
            )
        return deals

    def upsert(self, *, rows: list[dict[str, Any]]) -> Any:
        return crm_services.deals_upsert(rows=rows, actor=None)

    by_key = _by_key_action("by-external-id", "external id")
    bulk = _bulk_action()


class LeadViewSet(FactViewSet):
    model = Lead
    serializer_class = LeadSerializer
    row_serializer_class = LeadRowSerializer
    filterset_class = filters.LeadFilter
    references = LEAD_REFERENCES

    def tenant_queryset(self) -> QuerySet[Lead]:
        return Lead.objects.select_related("owner", "account", "converted_deal").order_by(
            "-created_at", "-pk"
        )

    def upsert(self, *, rows: list[dict[str, Any]]) -> Any:
        return crm_services.leads_upsert(rows=rows, actor=None)

    by_key = _by_key_action("by-external-id", "external id")
    bulk = _bulk_action()


class ActivityViewSet(FactViewSet):
    model = Activity
    serializer_class = ActivitySerializer
    row_serializer_class = ActivityRowSerializer
    filterset_class = filters.ActivityFilter
    references = ACTIVITY_REFERENCES

    def tenant_queryset(self) -> QuerySet[Activity]:
        return Activity.objects.select_related("person", "deal", "lead").order_by("-at", "-pk")

    def upsert(self, *, rows: list[dict[str, Any]]) -> Any:
        return crm_services.activities_upsert(rows=rows, actor=None)

    by_key = _by_key_action("by-external-id", "external id")
    bulk = _bulk_action()


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """JSON 404 for any other /api/ path, so API clients never get an HTML page."""
    detail = "Not found."
    if not request.path.endswith("/"):
        detail += f" API paths end with a slash: {request.path}/"
    return JsonResponse({"detail": detail}, status=404)

