"""WebSocket routes of the widget app: `ws/chat/<room>/` (visitors), `ws/agent/` (agents).

Each route sits behind its handshake (widget.handshake), which resolves the tenant and refuses a
socket with HTTP 403 before accept. Any other socket path is refused the same way.
"""

from django.urls import re_path

from widget.consumers import AgentConsumer, ChatConsumer
from widget.handshake import AgentHandshake, ChatHandshake, deny_unknown_path

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>[A-Za-z0-9_-]{1,64})/$", ChatHandshake(ChatConsumer.as_asgi())),
    re_path(r"^ws/agent/$", AgentHandshake(AgentConsumer.as_asgi())),
    re_path(r"", deny_unknown_path),
]
