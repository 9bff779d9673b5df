"""ASGI entry point: daphne serves HTTP and WebSocket from this one application.

Run with `PYTHONPATH=platform daphne config.asgi:application` (platform/ is a plain folder).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# Django must be set up before anything that imports models (consumers, routing).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.access_log import AccessLogMiddleware  # noqa: E402
from widget.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": AccessLogMiddleware(django_asgi_app),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
