"""Chat event handlers: each turns a LINE event into reply messages (`handlers.registry`).
Importing the package registers every handler module's handlers."""
from __future__ import annotations

from handlers import chat, lifecycle, photos  # noqa: F401  (registers their handlers)
from handlers.registry import ChatContext, Messages, registry

__all__ = ["ChatContext", "Messages", "registry"]
