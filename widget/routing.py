"""WebSocket routes of the widget app (`ws/chat/<room>/`, `ws/agent/`)."""

websocket_urlpatterns: list = []
