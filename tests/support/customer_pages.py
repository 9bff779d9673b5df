"""A customer's website on a second origin (http://127.0.0.1:<port>), for browser tests that embed
the real widget cross-origin from the platform host, as on a real customer's site.

`customer_pages(pages, headers)` serves `pages` (path to HTML, read at each request, so a test
may add a page after the server started: the snippet needs a site key, the site needs the
origin) with the given response headers, and yields the origin:

    pages = {}
    with customer_pages(pages) as origin:
        site = site_create(..., allowed_origins=[origin])
        pages["/"] = widget_page(platform_url, site_key)
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.processes import free_port


@contextmanager
def customer_pages(pages: dict[str, str], headers: dict[str, str] | None = None) -> Iterator[str]:
    extra_headers = dict(headers or {})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path.split("?", 1)[0].split("#", 1)[0])
            if body is None:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            payload = body.encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def widget_page(platform_url: str, site_key: str, *, title: str = "Acme Outdoor") -> str:
    """A shop's page embedding the widget with the snippet the dashboard gives out."""
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        f"<body><h1>{title}</h1>"
        f'<script src="{platform_url}/widget.js" data-site-key="{site_key}" async></script>'
        "</body></html>"
    )
