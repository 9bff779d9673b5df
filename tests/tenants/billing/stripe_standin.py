"""A local HTTP stand-in for the Stripe endpoints localstripe lacks: Checkout Sessions and the
Billing Portal. It records each request (path and form parameters) and answers as Stripe does."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import orjson

CHECKOUT_URL = "https://checkout.stripe.test/c/pay/cs_test_standin"
PORTAL_URL = "https://billing.stripe.test/p/session/bps_test_standin"

ANSWERS = {
    "/v1/customers": {"id": "cus_standin", "object": "customer"},
    "/v1/checkout/sessions": {
        "id": "cs_test_standin",
        "object": "checkout.session",
        "mode": "subscription",
        "url": CHECKOUT_URL,
    },
    "/v1/billing_portal/sessions": {
        "id": "bps_test_standin",
        "object": "billing_portal.session",
        "url": PORTAL_URL,
    },
}


class StripeStandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                recorded.append(("POST", self.path, dict(parse_qsl(body))))
                answer = ANSWERS.get(self.path)
                status = 200 if answer else 404
                payload = orjson.dumps(answer or {"error": {"message": "not in the stand-in"}})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> "StripeStandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]

    def params_of(self, path: str) -> dict[str, str]:
        return next(params for _, recorded_path, params in self.requests if recorded_path == path)
