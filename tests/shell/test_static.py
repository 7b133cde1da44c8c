"""Front-end assets are served by the app itself, and no template reaches out to a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
OWN_STATIC = [Path(settings.BASE_DIR) / "static" / "css", Path(settings.BASE_DIR) / "static" / "js"]
# Anything the browser would fetch by itself from another host: it breaks air-gapped installs.
REMOTE_RESOURCE = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|object|embed)\b[^>]*"""
    r"""\b(?:src|href|data|srcset)\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//"""
    r"""|@import\s+["']\s*(?:https?:)?//""",
    re.IGNORECASE,
)
ANY_HTTP_URL = re.compile(r"https?://", re.IGNORECASE)


def body_of(response) -> bytes:
    try:
        return b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        response.close()  # WhiteNoise streams from an open file


# The database mark is only for Django's request_finished signal when the file response closes.
@pytest.mark.smoke
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/static/vendor/bootstrap-5.3.9/css/bootstrap.min.css", "text/css", b"Bootstrap  v5.3.9"),
        (
            "/static/vendor/bootstrap-5.3.9/js/bootstrap.bundle.min.js",
            "text/javascript",
            b"Bootstrap v5.3.9",
        ),
        ("/static/vendor/htmx-2.0.11/htmx.min.js", "text/javascript", b"htmx"),
        ("/static/vendor/plotly/plotly.min.js", "text/javascript", b"plotly.js v"),
        ("/static/css/spm.css", "text/css", b".empty-state"),
        ("/static/js/spm.js", "text/javascript", b"X-CSRFToken"),
    ],
)
def test_the_app_serves_its_front_end_assets(client, path, content_type, marker):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert marker in body_of(response)[:2000]


@pytest.mark.django_db
def test_only_plotly_min_js_is_exposed_from_the_plotly_package(client):
    served = client.get("/static/vendor/plotly/plotly.min.js")
    served.close()

    assert served.status_code == 200
    assert client.get("/static/vendor/plotly/widgetbundle.js").status_code == 404
    assert client.get("/static/vendor/plotly/datasets/iris.csv.gz").status_code == 404


@pytest.mark.smoke
def test_no_template_loads_anything_from_a_remote_host():
    offenders = [
        f"{template.relative_to(TEMPLATES_DIR)}: {match.group(0)}"
        for template in TEMPLATES_DIR.rglob("*.html")
        for match in REMOTE_RESOURCE.finditer(template.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.jsdelivr.net/npm/htmx.org"></script>',
        "<link rel='stylesheet' href='//cdn.example.com/bootstrap.css'>",
        '<style>body { background: url("https://cdn.example.com/bg.png") }</style>',
        '<style>@import "https://fonts.example.com/css";</style>',
    ],
)
def test_the_remote_resource_check_catches_cdn_references(snippet):
    assert REMOTE_RESOURCE.search(snippet)


def test_the_remote_resource_check_allows_local_assets_and_plain_links():
    local = '<script src="/static/vendor/htmx-2.0.11/htmx.min.js"></script>'
    anchor = '<a href="https://example.com/docs">docs</a>'
    assert REMOTE_RESOURCE.search(local) is None
    assert REMOTE_RESOURCE.search(anchor) is None


def test_our_own_css_and_js_load_nothing_remote():
    for folder in OWN_STATIC:
        for asset in folder.rglob("*"):
            if asset.is_file():
                assert not ANY_HTTP_URL.search(asset.read_text()), asset


@pytest.mark.django_db
def test_a_rendered_page_loads_scripts_and_styles_only_from_our_static_url(
    client, tenant_a, admin_a
):
    client.force_login(admin_a)

    body = client.get("/t/acme/").content.decode()

    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', body)
    assert assets, "the page loads no assets at all"
    assert all(url.startswith(settings.STATIC_URL) for url in assets), assets
    assert any("bootstrap.min.css" in url for url in assets)
    assert any("htmx.min.js" in url for url in assets)


def test_a_chart_page_can_pull_plotly_in_from_our_static_url():
    from django.template.loader import render_to_string

    html = render_to_string("partials/plotly_js.html")

    assert f'src="{settings.STATIC_URL}vendor/plotly/plotly.min.js"' in html
