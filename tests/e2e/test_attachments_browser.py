"""Uploaded markup in Debian's chromium, from a real daphne, on the filesystem and on a real
S3-compatible server: an HTML page and an SVG with scripts are served as downloads with `nosniff`
and the sandbox policy, and no script of theirs ever runs, whether the browser is sent to their
URL or a page frames them, shows them as images or embeds them. Every script in them reports to
a beacon on loopback; the beacon must hear nothing.

Also through the real server: a body over the worker's limit is refused with 413 before it is
read.
"""

import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.support.dashboard_server import dashboard_server
from tests.support.object_storage import s3_environment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

ORIGIN = "https://shop.test"


class Beacon:
    """An HTTP server on loopback that records every request it gets."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                page = b"<!doctype html><title>host</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                return None

        self.hits = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def beacon():
    running = Beacon()
    yield running
    running.close()


@pytest.fixture(scope="module", params=["filesystem", "s3"])
def server(request, django_db_setup, django_db_blocker):
    environment = {"PARLEY_ATTACHMENT_MAX_BYTES": "200000"}
    if request.param == "s3":
        environment |= s3_environment(request.getfixturevalue("s3_server"))
    with dashboard_server(
        django_db_blocker, slug=f"files-{request.param}", origins=(ORIGIN,), **environment
    ) as running:
        yield running


def _visitor(server) -> str:
    key = server.site.keys.first().key
    session = httpx.post(
        f"{server.platform_url}/api/widget/v1/session",
        json={"site_key": key},
        headers={"Origin": ORIGIN},
        timeout=30,
    )
    session.raise_for_status()
    return session.json()["token"]


def _upload(server, token: str, body: bytes, name: str, content_type: str) -> httpx.Response:
    key = server.site.keys.first().key
    return httpx.post(
        f"{server.platform_url}/api/widget/v1/attachments",
        params={"site_key": key},
        files={"file": (name, body, content_type)},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _markup(beacon_url: str) -> dict[str, bytes]:
    report = f"new Image().src='{beacon_url}/ran?'+location.href"
    return {
        "page.html": (
            f"<!doctype html><html><body><h1>Hi</h1><script>{report};"
            f"fetch('{beacon_url}/fetch')</script><img src=x onerror=\"{report}\"></body></html>"
        ).encode(),
        "logo.svg": (
            f'<svg xmlns="http://www.w3.org/2000/svg" onload="{report}">'
            f"<script>{report}</script><circle r='4'/></svg>"
        ).encode(),
    }


def test_uploaded_markup_never_runs_in_chromium(server, beacon, browser_page):
    token = _visitor(server)
    urls = {}
    for name, body in _markup(beacon.url).items():
        uploaded = _upload(server, token, body, name, "text/html")
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["content_type"] == "text/plain"
        urls[name] = uploaded.json()["url"]
        served = httpx.get(urls[name], timeout=30)
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert "set-cookie" not in served.headers
        assert served.content == body

    page = browser_page.page
    for name, url in urls.items():
        # Sent to the file itself: a download, never a document.
        with page.expect_download() as download_info, suppress(PlaywrightError):
            page.goto(url)  # Playwright raises "Download is starting"
        download = download_info.value
        assert download.suggested_filename == name
        with open(download.path(), "rb") as saved:
            assert b"<script>" in saved.read()

    # Framed, shown as images and embedded by a page of another origin.
    page.goto(f"{beacon.url}/host")
    page.set_content(
        "<!doctype html><html><body>"
        + "".join(
            f'<iframe src="{url}"></iframe><img src="{url}" alt=""><object data="{url}"></object>'
            for url in urls.values()
        )
        + "</body></html>"
    )
    page.wait_for_load_state("load")
    # A script that ran would have reported by the time the page and its frames loaded; ask
    # the beacon once more through the page, so every earlier request has reached it first.
    page.evaluate(f"fetch('{beacon.url}/done', {{mode: 'no-cors'}})")
    page.wait_for_function("true")
    deadline_hits = _hits_until(beacon, "/done")
    assert "/host" in deadline_hits  # the beacon hears this page
    assert [hit for hit in deadline_hits if hit.startswith(("/ran", "/fetch"))] == []
    assert page.title() != "ran"

    # The same markup put in a page as a document does run, and the beacon hears it.
    page.set_content(_markup(beacon.url)["page.html"].decode())
    _hits_where(beacon, lambda hit: hit.startswith("/ran"))


def _hits_until(beacon: Beacon, last: str) -> list[str]:
    return _hits_where(beacon, lambda hit: hit == last)


def _hits_where(beacon: Beacon, wanted, timeout: float = 30) -> list[str]:
    """The beacon's hits once one is `wanted` (polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(wanted(hit) for hit in list(beacon.hits)):
            return list(beacon.hits)
        time.sleep(0.05)
    raise AssertionError(f"the beacon never got what was wanted: {beacon.hits}")


def test_a_body_over_the_workers_limit_is_refused_unread(server):
    token = _visitor(server)
    too_big = _upload(server, token, b"a" * 400_000, "big.txt", "text/plain")
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    over_file_limit = _upload(server, token, b"a" * 200_001, "big.txt", "text/plain")
    assert over_file_limit.status_code == 413
    assert _upload(server, token, b"a" * 1000, "small.txt", "text/plain").status_code == 201
