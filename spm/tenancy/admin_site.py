"""The tenant-scoped Django admin, mounted at /t/<slug>/admin/, and its base ModelAdmin classes.

Tenant-owned models register here (never on the platform site). Everything it shows goes through
querysets filtered to the active tenant, so change lists, choices, autocomplete, filters, history
and delete previews see that tenant only; a row of another tenant is a 404, like a missing one.
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.utils import (
    NestedObjects,
    NotRelationField,
    get_fields_from_path,
    quote,
    unquote,
)
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LogoutView, redirect_to_login
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, router, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from spm.web import add_service_errors

from .context import require_active_tenant
from .models import TenantModel
from .permissions import can_configure, can_use_admin


def is_tenant_owned(model: type[models.Model]) -> bool:
    """A tenant model, a proxy of one, or the historical copy of one."""
    if issubclass(model, TenantModel):
        return True
    instance_type = getattr(model, "instance_type", None)
    return isinstance(instance_type, type) and issubclass(instance_type, TenantModel)


def _has_history(model: type[models.Model]) -> bool:
    return getattr(model._meta, "simple_history_manager_attribute", None) is not None


def _tenant_members(queryset: models.QuerySet, tenant_id: int) -> models.QuerySet:
    # Users are platform rows; inside a tenant only its members may be picked or listed.
    return queryset.filter(memberships__tenant_id=tenant_id, memberships__is_active=True)


class TenantAdminSite(admin.AdminSite):
    site_header = "SPM administration"
    site_title = "SPM admin"
    index_title = "Configuration"
    # The stock index lists the user's recent actions from every tenant; ours does not.
    index_template = "admin/tenant_index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return (
            request.user.is_active
            and getattr(request, "tenant", None) is not None
            and can_use_admin(getattr(request, "membership", None))
        )

    def admin_view(self, view, cacheable: bool = False):
        guarded = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Managers and reps are signed in already: sending them to a login form they have
            # just passed would loop, so they get a plain refusal instead.
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("Your role does not give access to the admin.")
            return guarded(request, *args, **kwargs)

        return update_wrapper(inner, view)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Members sign in through the application's login page, never a second one."""
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not self.has_permission(request):
            raise PermissionDenied("Your role does not give access to the admin.")
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = reverse("admin:index", current_app=self.name)
        return HttpResponseRedirect(target)

    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return LogoutView.as_view()(request)

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None:
            context["site_header"] = f"{tenant.name} · SPM administration"
            context["site_url"] = reverse("tenant-home")
            if request.user.is_superuser:
                context["platform_admin_url"] = reverse(
                    "admin:tenancy_tenant_changelist", current_app=admin.site.name
                )
        return context

    def get_urls(self) -> list:
        urls = super().get_urls()
        # The stock "view on site" redirect looks rows up with the unscoped base manager.
        scoped = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [scoped if getattr(u, "name", None) == "view_on_site" else u for u in urls]

    def view_on_site(
        self, request: HttpRequest, content_type_id: str, object_id: str
    ) -> HttpResponse:
        from django.contrib.contenttypes.models import ContentType

        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist) as exc:
            raise Http404("No such record.") from exc
        model_admin = self._registry.get(model)
        if model_admin is None:
            raise Http404("No such record.")
        obj = model_admin.get_object(request, unquote(object_id))
        if (
            obj is None
            or not model_admin.has_view_or_change_permission(request, obj)
            or not hasattr(obj, "get_absolute_url")
        ):
            raise Http404("No such record.")
        return HttpResponseRedirect(obj.get_absolute_url())


tenant_admin_site = TenantAdminSite(name="tenant_admin")


class TenantModelForm(forms.ModelForm):
    """Form of a tenant row: the unique constraints that include `tenant` are checked too.

    `tenant` is not a form field, so a stock ModelForm skips every constraint naming it — and by
    DESIGN.md that is every unique constraint — leaving duplicates to fail as a database error.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.tenant_id is None:
            self.instance.tenant = require_active_tenant()

    def _get_validation_exclusions(self) -> set[str]:
        exclude = super()._get_validation_exclusions()
        exclude.discard("tenant")
        return exclude


class TenantMemberListFilter(RelatedFieldListFilter):
    """List filter on a user field that offers the tenant's members only."""

    def field_choices(self, field, request, model_admin) -> list[tuple[Any, str]]:
        ordering = self.field_admin_ordering(field, request, model_admin) or ()
        users = _tenant_members(
            field.related_model._default_manager.all(), require_active_tenant().pk
        )
        return [(user.pk, str(user)) for user in users.order_by(*ordering)]


class _TenantScopedOptions:
    """What ModelAdmin and inlines share: rows, choices and filters of the active tenant only."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        # The scoped manager already filters; saying it again keeps a custom manager honest.
        return super().get_queryset(request).filter(tenant_id=require_active_tenant().pk)

    def get_field_queryset(self, db, db_field, request: HttpRequest):
        queryset = super().get_field_queryset(db, db_field, request)
        related = db_field.remote_field.model
        if related is get_user_model():
            base = queryset if queryset is not None else related._default_manager.using(db)
            return _tenant_members(base, require_active_tenant().pk)
        if issubclass(related, TenantModel):
            base = queryset if queryset is not None else related._default_manager.using(db)
            return base.filter(tenant_id=require_active_tenant().pk)
        return queryset


def _tenant_deleted_objects(objs, request: HttpRequest, admin_site: admin.AdminSite):
    """django.contrib.admin.utils.get_deleted_objects, refusing when another tenant is reached.

    The delete collector follows relations through unscoped base managers. Rows of another tenant
    cannot point at ours through the application, but if one ever does, the preview names no
    such row and the deletion is refused rather than cascading across tenants.
    """
    try:
        first = objs[0]
    except IndexError:
        return [], {}, set(), []
    tenant_id = require_active_tenant().pk
    collector = NestedObjects(using=router.db_for_write(first._meta.model), origin=objs)
    collector.collect(objs)
    perms_needed: set[str] = set()

    def format_callback(obj):
        opts = obj._meta
        no_edit_link = f"{capfirst(opts.verbose_name)}: {obj}"
        if not admin_site.is_registered(obj.__class__):
            return no_edit_link
        if not admin_site.get_model_admin(obj.__class__).has_delete_permission(request, obj):
            perms_needed.add(opts.verbose_name)
        try:
            url = reverse(
                f"{admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                None,
                (quote(obj.pk),),
            )
        except NoReverseMatch:
            return no_edit_link
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

    reached = [o for rows in collector.model_objs.values() for o in rows]
    reached += list(collector.protected)
    foreign = [o for o in reached if getattr(o, "tenant_id", tenant_id) != tenant_id]
    if foreign:
        return [], {}, set(), ["Records of another organisation refer to this one."]
    to_delete = collector.nested(format_callback)
    protected = [format_callback(obj) for obj in collector.protected]
    model_count = {
        model._meta.verbose_name_plural: len(rows) for model, rows in collector.model_objs.items()
    }
    return to_delete, model_count, perms_needed, protected


class TenantModelAdmin(_TenantScopedOptions, SimpleHistoryAdmin):
    """Base ModelAdmin for tenant-owned models. Admins edit; finance reads unless allowed."""

    #: Finance may change these models too (e.g. adjustments, payouts).
    finance_can_edit = False
    form = TenantModelForm

    def _can_edit(self, request: HttpRequest) -> bool:
        membership = getattr(request, "membership", None)
        return can_configure(membership) or (self.finance_can_edit and can_use_admin(membership))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_use_admin(getattr(request, "membership", None))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_use_admin(getattr(request, "membership", None))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another tenant's row and a missing row get the same answer.
        raise Http404("No such record.")

    def get_list_filter(self, request: HttpRequest) -> list:
        filters = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and self._is_user_field(entry):
                entry = (entry, TenantMemberListFilter)
            filters.append(entry)
        return filters

    def _is_user_field(self, lookup: str) -> bool:
        try:
            field = get_fields_from_path(self.model, lookup)[-1]
        except (FieldDoesNotExist, NotRelationField):
            return False
        return field.is_relation and field.related_model is get_user_model()

    def get_deleted_objects(self, objs, request: HttpRequest):
        return _tenant_deleted_objects(objs, request, self.admin_site)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # "Save as new" turns the request into an add; the row it was opened from must still
        # be one this tenant can see, or the form would be a probe for other tenants' ids.
        if (
            object_id is not None
            and request.method == "POST"
            and "_saveasnew" in request.POST
            and self.get_object(request, unquote(object_id)) is None
        ):
            raise Http404("No such record.")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list:
        if _has_history(self.model):
            return super().get_urls()
        return admin.ModelAdmin.get_urls(self)

    def history_view(self, request, object_id, extra_context=None):
        if not _has_history(self.model):
            return admin.ModelAdmin.history_view(self, request, object_id, extra_context)
        object_id = unquote(object_id)
        if self.get_object(request, object_id) is None:
            # A deleted row keeps its history; it is shown when that history is this tenant's.
            pk = self._parse_id(self.model._meta.pk, object_id)
            history = getattr(self.model, self.model._meta.simple_history_manager_attribute)
            if not history.filter(**{self.model._meta.pk.attname: pk}).exists():
                raise Http404("No such record.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        history_model = getattr(
            self.model, self.model._meta.simple_history_manager_attribute
        ).model
        self._parse_id(self.model._meta.pk, unquote(object_id))
        self._parse_id(history_model._meta.pk, version_id)
        # Reverting is a change, whatever the history page lets one look at.
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    @staticmethod
    def _parse_id(field: models.Field, value: str) -> Any:
        try:
            return field.to_python(value)
        except ValidationError as exc:
            raise Http404("No such record.") from exc


class _TrialRun(Exception):
    """Rolls back a service's trial run made while the admin form is validated."""


class ServiceSaveMixin:
    """For a TenantModelAdmin whose save is a business operation: `service_save` calls the service.

    The admin validates its form and then saves with no way back to the form, so the service is
    tried once during validation in a savepoint that is always rolled back: a ValidationError it
    raises lands on the form (on the fields it names) and nothing is written. `save_model` then
    calls it for real. `service_save` returns None to keep the model's own save, for a change no
    service covers.
    """

    def service_save(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> models.Model | None:
        raise NotImplementedError

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        form_class = super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]
        model_admin = self

        class ServiceForm(form_class):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self._errors:
                    return
                instance = self.instance
                # A service that saves the instance it is given leaves a key behind that the
                # rollback took back; the real call must find the instance as the form left it.
                state = (instance.pk, instance._state.adding, instance._state.db)
                try:
                    with transaction.atomic():
                        model_admin.service_save(request, instance, self, change)
                        raise _TrialRun
                except _TrialRun:
                    pass
                except ValidationError as error:
                    add_service_errors(self, error)
                finally:
                    instance.pk, instance._state.adding, instance._state.db = state

        ServiceForm.__name__ = form_class.__name__
        return ServiceForm

    def save_model(self, request: HttpRequest, obj: models.Model, form: forms.ModelForm,
                   change: bool) -> None:
        saved = self.service_save(request, obj, form, change)
        if saved is None:
            super().save_model(request, obj, form, change)  # type: ignore[misc]
        elif saved is not obj:
            # The admin goes on with `obj` (inlines, the log, the redirect): give it the row.
            obj.pk = saved.pk
            obj._state.adding = False
            obj._state.db = saved._state.db


class TenantInlineMixin(_TenantScopedOptions):
    """Inline of a tenant model inside a TenantModelAdmin: edited by whoever edits the parent."""

    extra = 0
    form = TenantModelForm

    def _can_edit(self, request: HttpRequest) -> bool:
        membership = getattr(request, "membership", None)
        parent_admin = self.admin_site._registry.get(self.parent_model)
        finance_can_edit = getattr(parent_admin, "finance_can_edit", False)
        return can_configure(membership) or (finance_can_edit and can_use_admin(membership))

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return can_use_admin(getattr(request, "membership", None))

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._can_edit(request)


class TenantInline(TenantInlineMixin, admin.TabularInline):
    pass


class TenantStackedInline(TenantInlineMixin, admin.StackedInline):
    pass


# ------------------------------------------------------------------------------------------------
# Registration rules, checked by `manage.py check` and by tests/tenancy/test_admin_checks.py
# ------------------------------------------------------------------------------------------------
def admin_registration_errors(
    *, platform_site: admin.AdminSite, tenant_site: admin.AdminSite
) -> list[checks.CheckMessage]:
    """Tenant models only on the tenant site, and only through the scoped base classes."""
    errors: list[checks.CheckMessage] = []
    for model in platform_site._registry:
        if is_tenant_owned(model):
            errors.append(checks.Error(
                f"{model._meta.label} is tenant-owned but registered on the platform admin.",
                hint="Register it with @admin.register(..., site=tenant_admin_site).",
                obj=model,
                id="spm.E101",
            ))
    for model, model_admin in tenant_site._registry.items():
        if not is_tenant_owned(model):
            errors.append(checks.Error(
                f"{model._meta.label} is not a tenant model but is registered on the tenant "
                "admin, where every member admin would see all of its rows.",
                hint="Keep platform models on the platform admin (/admin/).",
                obj=model,
                id="spm.E102",
            ))
        if not isinstance(model_admin, TenantModelAdmin):
            errors.append(checks.Error(
                f"The admin of {model._meta.label} does not subclass TenantModelAdmin.",
                hint="Subclass spm.tenancy.admin_site.TenantModelAdmin.",
                obj=model_admin.__class__,
                id="spm.E103",
            ))
        for inline in model_admin.inlines:
            if not issubclass(inline, TenantInlineMixin):
                errors.append(checks.Error(
                    f"Inline {inline.__name__} of {model._meta.label} does not subclass "
                    "TenantInline.",
                    hint="Subclass spm.tenancy.admin_site.TenantInline (or TenantStackedInline).",
                    obj=inline,
                    id="spm.E104",
                ))
        for owner, form_class in [(model_admin.__class__, model_admin.form)] + [
            (inline, inline.form) for inline in model_admin.inlines
        ]:
            if not issubclass(form_class, TenantModelForm):
                errors.append(checks.Error(
                    f"{owner.__name__}.form does not subclass TenantModelForm, so the tenant's "
                    "unique constraints would fail as database errors, not form errors.",
                    hint="Subclass spm.tenancy.admin_site.TenantModelForm.",
                    obj=owner,
                    id="spm.E105",
                ))
    return errors


@checks.register(checks.Tags.admin)
def check_admin_registrations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    return admin_registration_errors(platform_site=admin.site, tenant_site=tenant_admin_site)
