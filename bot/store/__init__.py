"""The only code that speaks SQL: sessions, their timeline, posts and messages."""

from bot.store.store import PostState, SessionRow, StepRow, Store
from bot.store.writer import MessageWriter, StoredMessage

__all__ = ["MessageWriter", "PostState", "SessionRow", "StepRow", "Store", "StoredMessage"]
