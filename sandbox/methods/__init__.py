"""Bot API method implementations; importing this package fills ``REGISTRY``."""

from sandbox.methods import chats, messages, payments, updates
from sandbox.methods.base import REGISTRY, Ctx

__all__ = ["REGISTRY", "Ctx", "chats", "messages", "payments", "updates"]
