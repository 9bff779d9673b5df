"""The demo customer page: a stand-in for a tenant's website on a second origin.

`make run` serves it on http://127.0.0.1:8001/ so the widget is embedded cross-origin from the
platform host, exactly as on a real customer's site (Origin checks, CORS and all).
"""

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.template.loader import render_to_string

PAGE_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2937}"
    "header{background:#14532d;color:#fff;padding:1rem 2rem}header a{color:#bbf7d0}"
    "main{max-width:46rem;padding:1rem 2rem}pre{background:#f3f4f6;padding:1rem;overflow:auto}"
    ".demo-email{border-top:1px solid #d1d5db;margin-top:2rem;padding-top:1rem}"
    ".demo-email input{font:inherit;padding:.3rem .5rem;margin:0 .5rem}"
)
# The page's one script: tells the widget the email typed in its form (Parley('identify')), so
# the agents' answers can follow the visitor by email once they leave (docs/EMAIL.md).
EMAIL_SCRIPT = """window.Parley = window.Parley || function () {
  (Parley.q = Parley.q || []).push(arguments);
};
document.getElementById("demo-email").addEventListener("submit", function (event) {
  event.preventDefault();
  var email = event.target.email.value.trim();
  var id = localStorage.getItem("acme-demo-visitor");
  if (!id) {
    id = "demo-" + Math.random().toString(36).slice(2);
    localStorage.setItem("acme-demo-visitor", id);
  }
  Parley("identify", { id: id, email: email, name: email.split("@")[0] });
  document.getElementById("demo-email-status").textContent = "The chat now knows " + email + ".";
});
"""


def render_customer_page(*, platform_url: str, tenant_url: str, site_key: str, origin: str) -> str:
    return render_to_string(
        "demo/customer_page.html",
        {
            "platform_url": platform_url.rstrip("/"),
            "tenant_url": tenant_url.rstrip("/"),
            "site_key": site_key,
            "customer_origin": origin,
        },
    )


def serve_customer_page(*, host: str, port: int, html: str) -> ThreadingHTTPServer:
    """Serve the page (at / and /about.html, for navigation) from a background thread."""
    body = html.encode()
    css = PAGE_CSS.encode()
    script = EMAIL_SCRIPT.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html", "/about.html"):
                self._answer(HTTPStatus.OK, "text/html; charset=utf-8", body)
            elif path == "/page.css":
                self._answer(HTTPStatus.OK, "text/css", css)
            elif path == "/demo-email.js":
                self._answer(HTTPStatus.OK, "text/javascript", script)
            else:
                self._answer(HTTPStatus.NOT_FOUND, "text/plain", b"not found")

        def _answer(self, status, content_type, payload):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="customer-page").start()
    return server
