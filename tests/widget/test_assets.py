"""Serving the widget: `/widget.js` (short-lived loader) and `/widget/v/<version>.js` (the
immutable bundle), on the platform host."""

import gzip
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tenants.services import public_tenant_ensure
from widget import assets
from widget.assets import WidgetAssets, WidgetNotBuiltError, accepts_gzip

pytestmark = pytest.mark.django_db

BUNDLE = b'(()=>{console.log("parley bundle")})();\n'
LOADER = b'(()=>{var s=document.currentScript;load("__PARLEY_BUNDLE_PATH__",s)})();\n'
VERSION = hashlib.sha256(BUNDLE).hexdigest()[:20]


@pytest.fixture(autouse=True)
def build(tmp_path, monkeypatch):
    """A build folder with a known bundle, read afresh for each test."""
    (tmp_path / "widget.js").write_bytes(BUNDLE)
    (tmp_path / "loader.js").write_bytes(LOADER)
    monkeypatch.setattr(assets, "BUILD_DIR", tmp_path)
    assets.widget_assets.cache_clear()
    yield tmp_path
    assets.widget_assets.cache_clear()


@pytest.fixture
def platform():
    """A client on the platform host (public schema), as a browser loading the embed tag."""
    public_tenant_ensure()
    return Client(HTTP_HOST=settings.PLATFORM_HOST)


def test_loader_is_short_lived_javascript_that_names_the_versioned_bundle(platform):
    response = platform.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert re.fullmatch(r'"l[0-9a-f]{20}"', response["ETag"])
    body = response.content
    assert f"/widget/v/{VERSION}.js".encode() in body
    assert b"__PARLEY_BUNDLE_PATH__" not in body


def test_bundle_is_cached_for_a_year_under_its_content_hash(platform):
    response = platform.get(f"/widget/v/{VERSION}.js")
    assert response.status_code == 200
    assert response.content == BUNDLE
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{VERSION}"'
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/widget.js", f"/widget/v/{VERSION}.js"])
def test_if_none_match_with_the_current_etag_answers_304(platform, path):
    etag = platform.get(path)["ETag"]
    response = platform.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == platform.get(path)["Cache-Control"]
    assert platform.get(path, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert platform.get(path, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_a_new_build_changes_the_version_and_the_loader_etag(platform, build):
    before = platform.get("/widget.js")
    (build / "widget.js").write_bytes(BUNDLE + b"// changed\n")
    assets.widget_assets.cache_clear()
    after = platform.get("/widget.js")
    assert after["ETag"] != before["ETag"]
    assert platform.get("/widget.js", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    assert platform.get(f"/widget/v/{VERSION}.js").status_code == 404


def test_gzip_when_the_browser_accepts_it(platform):
    response = platform.get(f"/widget/v/{VERSION}.js", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == BUNDLE
    assert response["ETag"] == f'"{VERSION}.gz"'
    # The identity representation's tag revalidates the gzip one, and the other way round.
    assert (
        platform.get(
            f"/widget/v/{VERSION}.js",
            HTTP_ACCEPT_ENCODING="gzip",
            HTTP_IF_NONE_MATCH=f'"{VERSION}"',
        ).status_code
        == 304
    )
    plain = platform.get(f"/widget/v/{VERSION}.js", HTTP_ACCEPT_ENCODING="gzip;q=0, br")
    assert "Content-Encoding" not in plain
    assert plain.content == BUNDLE


def test_accepts_gzip_reads_quality_values():
    assert accepts_gzip("gzip")
    assert accepts_gzip("br, gzip;q=0.5")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("deflate, br")
    assert not accepts_gzip("")


def test_unknown_version_is_404_with_an_error_body(platform):
    response = platform.get("/widget/v/0123456789abcdef0123.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response["Cache-Control"] == "no-store"


def test_only_safe_methods(platform):
    assert platform.post("/widget.js").status_code == 405
    assert platform.head("/widget.js").status_code == 200


def test_missing_build_is_a_clear_503(platform, build):
    (build / "widget.js").unlink()
    assets.widget_assets.cache_clear()
    response = platform.get("/widget.js")
    assert response.status_code == 503
    assert "make widget" in response.json()["error"]["message"]
    with pytest.raises(WidgetNotBuiltError):
        WidgetAssets.from_build(build)


def test_the_real_build_is_served_and_within_the_size_budget(platform, monkeypatch):
    """The esbuild output of frontend-widget/ (built by `make widget` before the suite)."""
    real_build = Path(assets.__file__).resolve().parents[1] / "frontend-widget" / "dist"
    monkeypatch.setattr(assets, "BUILD_DIR", real_build)
    assets.widget_assets.cache_clear()
    loader = platform.get("/widget.js", HTTP_ACCEPT_ENCODING="gzip")
    assert loader.status_code == 200, "run `make widget` to build the widget"
    version = assets.widget_assets().version
    assert f"/widget/v/{version}.js".encode() in gzip.decompress(loader.content)
    bundle = platform.get(f"/widget/v/{version}.js", HTTP_ACCEPT_ENCODING="gzip")
    assert len(bundle.content) + len(loader.content) <= 25 * 1024
    # Nothing a strict CSP (no 'unsafe-eval', no 'unsafe-inline') would block.
    code = gzip.decompress(bundle.content) + gzip.decompress(loader.content)
    for forbidden in (b"eval(", b"new Function", b"innerHTML", b"insertAdjacentHTML", b".style."):
        assert forbidden not in code, forbidden
