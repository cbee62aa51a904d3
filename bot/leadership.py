"""Which of several ``hashchat run`` processes on one database runs the chats.

Exactly one instance leads: it reads the platforms, runs the alarm and posts. The others
stand by (they serve the web pages) and ask for the lease every ``renew`` seconds. The
lease is a row in the database (bot/store/leadership.py) that runs out ``lease``
seconds after its last renewal by the database's clock; the leader renews it every
``renew`` seconds, so when it dies (killed, its machine gone, its database connection
cut) another instance takes over within ``lease + renew`` seconds.

A leader counts its own lease on its monotonic clock, from the moment it SENT the
renewal: the database's lease runs out no sooner, so the leader always stops believing
it leads before anyone else may start. That clock also runs while the process is stopped
(SIGSTOP, a long pause): a leader resumed past its deadline knows at once that it may
no longer post, even before its next renewal is refused. What it may not do any more is
checked twice: the runner asks :meth:`Leadership.may_post` right before each send, and
each post's claim checks the fencing token in the database (Store.fence).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

from bot.store.leadership import LeaseStore

log = logging.getLogger(__name__)
# Role changes are logged as warnings: shown without -v, since an operator running
# several instances needs to see which one leads.

LEASE = 6.0  # seconds a renewal holds the lease
RENEW = 2.0  # seconds between renewals (and between a standby's attempts)
RETRY = 0.5  # seconds before trying again after a renewal failed, while the lease lasts


def holder_id() -> str:
    """host:pid:random, unique even for a pid reused after a restart."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def gone(holder: str) -> bool:
    """A holder on this host whose process no longer exists: a leader restarted by
    systemd, or killed, need not wait for its own old lease to run out. A holder on
    another host (or alive here, even stopped) is waited for: only its lease tells."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


class Leadership:
    """The lease as one instance sees it; :meth:`run` keeps it or waits for it."""

    def __init__(
        self,
        leases: LeaseStore,
        holder: str | None = None,
        *,
        lease: float = LEASE,
        renew: float = RENEW,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < renew < lease:
            raise ValueError("the lease must outlast several renewals")
        self.leases = leases
        self.holder = holder or holder_id()
        self.lease = lease
        self.renew = renew
        self._monotonic = monotonic
        self.token: int | None = None  # the token it leads under, once it has led
        self._deadline = -math.inf  # when its lease runs out, by its own clock

    @property
    def role(self) -> str:
        return "leader" if self.may_post() else "standby"

    def may_post(self) -> bool:
        """Still within the lease by this process's own clock."""
        return self.token is not None and self._monotonic() < self._deadline

    def expired(self) -> bool:
        """It led, and its lease has run out without a renewal: it lost the lease."""
        return self.token is not None and self._monotonic() >= self._deadline

    async def attempt(self) -> bool:
        """Ask for (or renew) the lease once; True if this instance holds it now."""
        sent = self._monotonic()
        token = await self.leases.acquire(self.holder, self.lease)
        if token is None and self.token is None:
            current = await self.leases.current()
            if current is not None and gone(current.holder):
                log.warning("the leader %s is gone from this host: taking over", current.holder)
                token = await self.leases.acquire(self.holder, self.lease, dead=current.holder)
        if token is None or (self.token is not None and token != self.token):
            return False  # someone else's; or ours again after another one led between
        self.token = token
        self._deadline = sent + self.lease
        return True

    async def run(
        self,
        on_lead: Callable[[int], Coroutine[Any, Any, None]],
        on_lost: Callable[[], None],
        on_standby: Callable[[], None] = lambda: None,
    ) -> None:
        """Stand by until the lease is ours, then start leading (``on_lead`` runs as a
        task, so renewals go on while it starts); renew until cancelled. ``on_lost``
        is called once the lease runs out unrenewed, and this returns; ``on_standby``
        once another instance is found leading."""
        leading: asyncio.Task[None] | None = None
        said_standby = False
        try:
            while True:
                if not self._still_ours(on_lost):
                    return
                ok = await self._attempt_bounded()
                if leading is None and ok:
                    assert self.token is not None
                    log.warning("leading (token %d) as %s", self.token, self.holder)
                    leading = asyncio.create_task(on_lead(self.token), name="leading")
                elif leading is None and not said_standby:
                    log.warning(
                        "standing by: another instance leads; asking every %g s", self.renew
                    )
                    said_standby = True
                    on_standby()
                if not self._still_ours(on_lost):
                    return
                await asyncio.sleep(self._pause(ok))
        finally:
            if leading is not None and not leading.done():
                leading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await leading

    def _still_ours(self, on_lost: Callable[[], None]) -> bool:
        """False (after telling ``on_lost``) once a leader's lease ran out unrenewed:
        checked before a renewal too, so a leader resumed after a long stop gives up
        even if nobody took over meanwhile."""
        if not self.expired():
            return True
        log.error(
            "lost the lease (token %s): not renewed within %g s; stopping at once",
            self.token,
            self.lease,
        )
        on_lost()
        return False

    async def _attempt_bounded(self) -> bool:
        """One attempt, given up when the lease would run out first (a database that
        stopped answering must not hold the leader past its deadline)."""
        limit = self.renew if self.token is None else self._deadline - self._monotonic()
        try:
            async with asyncio.timeout(max(limit, 0.05)):
                return await self.attempt()
        except TimeoutError:
            log.warning("the lease could not be renewed: the database did not answer in time")
        except Exception as exc:  # the database refused or the connection dropped
            log.warning("the lease could not be renewed: %s", exc)
        return False

    def _pause(self, ok: bool) -> float:
        if self.token is None or ok:
            return self.renew
        return max(0.0, min(RETRY, self._deadline - self._monotonic()))

    async def release(self) -> None:
        """A clean stop: free the lease now, so a standby takes over at its next try."""
        if self.token is not None:
            await self.leases.release(self.holder)
