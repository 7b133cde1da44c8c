"""Pages where a tenant admin issues, lists and revokes the workspace's API keys."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .models import ApiKey, Role
from .permissions import role_required


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="Which system will use it, e.g. “Salesforce nightly sync”.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the key a name.")
        return name


@never_cache
@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def apikey_list(request: HttpRequest) -> HttpResponse:
    """The keys, and a form for a new one; its secret is shown on the answer to that form only."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        key, secret = ApiKey.issue(
            tenant=request.tenant, name=form.cleaned_data["name"], created_by=request.user
        )
        # Rendered, not redirected: the secret exists only in this response (never_cache keeps
        # it out of the browser's and any proxy's cache), and a reload asks to resend the form.
        return render(
            request,
            "tenancy/apikeys_created.html",
            {"key": key, "secret": secret, "api_url": request.build_absolute_uri("/api/v1/")},
        )
    keys = ApiKey.objects.filter(tenant=request.tenant).select_related("created_by")
    status = 400 if request.method == "POST" else 200
    return render(request, "tenancy/apikeys.html", {"keys": keys, "form": form}, status=status)


@role_required(Role.ADMIN)
@require_POST
def apikey_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, tenant=request.tenant, pk=pk)
    if key.is_revoked:
        messages.info(request, f"The key “{key.name}” was already revoked.")
    else:
        key.revoke()
        messages.success(
            request, f"The key “{key.name}” is revoked: requests that use it now get 401."
        )
    return redirect("apikey-list")
