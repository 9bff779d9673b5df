"""The socket consumers: `ChatConsumer` (ws/chat, visitors) and `AgentConsumer` (ws/agent)."""

from widget.consumers.agent import AgentConsumer
from widget.consumers.chat import ChatConsumer

__all__ = ["AgentConsumer", "ChatConsumer"]
