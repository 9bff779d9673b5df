"""/metrics exposes Parley's series; the access log has request ids and no query strings."""

import pytest
from channels.testing import HttpCommunicator

# Imported at collection: building the ASGI application sets Django up again, which reconfigures
# logging (and would replace the handler that `log_output` listens to).
from config.asgi import application
from tests.support.metrics import ALL_SERIES

pytestmark = pytest.mark.django_db


def test_metrics_lists_every_parley_series(client):
    response = client.get("/metrics", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for series in ALL_SERIES:
        assert f"# TYPE {series.removesuffix('_total')}" in body


async def test_access_log_carries_a_request_id_and_no_query_string(log_output):
    communicator = HttpCommunicator(
        application,
        "GET",
        "/nowhere?site_key=pk_Qv4hNZvJ2dm0CzljcyBbWbAH&x=1",
        headers=[(b"host", b"localhost"), (b"x-request-id", b"req-12345678")],
    )
    response = await communicator.get_response()
    await communicator.wait()  # the line is written once the application has finished
    assert (b"x-request-id", b"req-12345678") in response["headers"]
    lines = [line for line in log_output.getvalue().splitlines() if "http_request" in line]
    assert lines, log_output.getvalue()
    assert "req-12345678" in lines[-1]
    assert "/nowhere" in lines[-1]
    assert "site_key" not in lines[-1]
    assert "pk_" not in lines[-1]


@pytest.mark.parametrize(
    "path",
    [
        "/login/link/AbCdEfGhIjKlMnOpQrStUvWxYz012345/",
        "/invitation/MTIz/c8x2kq-0123456789abcdef0123456789abcdef/",
        "/reset/MTIz/c8x2kq-0123456789abcdef0123456789abcdef/",
    ],
)
async def test_access_log_hides_the_credential_a_path_carries(log_output, path):
    """Sign-in links, invitations and password resets carry their token in the path itself."""
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"localhost")])
    await communicator.get_response()
    await communicator.wait()
    lines = [line for line in log_output.getvalue().splitlines() if "http_request" in line]
    assert lines, log_output.getvalue()
    assert "[redacted]" in lines[-1]
    for secret in ("AbCdEfGhIjKlMnOpQrStUvWxYz012345", "0123456789abcdef0123456789abcdef"):
        assert secret not in lines[-1]
