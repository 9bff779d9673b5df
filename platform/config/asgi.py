"""ASGI entry point: daphne serves HTTP and WebSocket from this one application.

Run with `PYTHONPATH=platform daphne config.asgi:application` (platform/ is a plain folder).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from core.http_threads import http_application

# Django must be set up before anything that imports models (consumers, routing). Its HTTP
# requests run on a bounded set of threads (core/http_threads.py); sockets do their database
# work on their own thread (core/db_thread.py).
django_asgi_app = http_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.access_log import AccessLogMiddleware  # noqa: E402
from widget.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": AccessLogMiddleware(django_asgi_app),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
