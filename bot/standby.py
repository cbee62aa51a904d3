"""A standby's webhook routes: present from the start, refusing until it leads.

The web server's routes are fixed when it starts, and a standby starts it long before it
may lead (bot/leadership.py). Its webhook deliveries must not reach a platform adapter
that has not started; 503 makes the platform deliver them again, to whichever instance
leads by then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.platforms.base import WebhookReceiver


class Standby:
    """``receiver``'s route, answered by it only while ``leading()``."""

    def __init__(self, receiver: WebhookReceiver, leading: Callable[[], bool]) -> None:
        self.receiver = receiver
        self.webhook_path = receiver.webhook_path
        self._leading = leading

    async def receive_webhook(self, headers: Mapping[str, str], body: bytes) -> int:
        if not self._leading():
            return 503
        return await self.receiver.receive_webhook(headers, body)
