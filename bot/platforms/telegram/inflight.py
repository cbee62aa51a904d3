"""Which fetched updates the core has not yet stored, so the offset only ever passes a
contiguous run of finished ones (at least once in, never lost)."""

from __future__ import annotations

from collections import OrderedDict

from bot.domain import PlatformEvent


class Inflight:
    def __init__(self) -> None:
        self._open: OrderedDict[int, int] = OrderedDict()  # update id -> events outstanding
        # id(event) -> (update id, event); the event is kept so its id() stays unique.
        self._owner: dict[int, tuple[int, PlatformEvent]] = {}
        self.offset: int | None = None  # first update id not yet finished
        self.acks = 0  # grows on every acknowledgement, to tell progress from a stall

    def __len__(self) -> int:
        return len(self._open)

    def __contains__(self, update_id: int) -> bool:
        return update_id in self._open

    def add(self, update_id: int, events: list[PlatformEvent]) -> None:
        self._open[update_id] = len(events)
        for event in events:
            self._owner[id(event)] = (update_id, event)

    def ack(self, event: PlatformEvent) -> int | None:
        """Count ``event`` as stored; the update it came from, if that is now finished."""
        owner = self._owner.pop(id(event), None)
        if owner is None:
            return None  # from before a redelivery or a restart
        self.acks += 1
        update_id = owner[0]
        self._open[update_id] -= 1
        return update_id if self._open[update_id] == 0 else None

    def advance(self) -> bool:
        """Drop the finished updates at the front; True if ``offset`` moved."""
        moved = False
        while self._open:
            update_id, outstanding = next(iter(self._open.items()))
            if outstanding:
                break
            self._open.popitem(last=False)
            self.offset = update_id + 1
            moved = True
        return moved

    def forget(self) -> list[int]:
        """Give up on what is outstanding (it will be fetched again); the ids it held."""
        stalled = list(self._open)
        self._open.clear()
        self._owner.clear()
        return stalled

    def discard(self, update_id: int) -> None:
        """Stop waiting for one update (a webhook delivery Telegram will make again)."""
        self._open.pop(update_id, None)
        for key in [k for k, (u, _) in self._owner.items() if u == update_id]:
            del self._owner[key]
