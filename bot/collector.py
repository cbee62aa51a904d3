"""Python's cycle collector, set for a process that takes bursts of messages.

With CPython's default thresholds (a young-generation pass every 700 allocations, a full
pass every hundred of those) a burst of answers made the collector walk every object
the bot holds (configuration, chats, the platforms' caches) again and again: 13-15% of
the time a Discord burst took in ``make bench-intake`` (bench/README.md, Intake). Each
message leaves almost no cycles behind (its objects are freed by reference counting),
so collecting thirty times less often keeps memory the same (a young pass then looks
at some 20,000 objects, a few MB) and the time goes to the messages: 0.2 s of 1.3 s
for 20,000 Discord messages before, 0.01 s after. (``gc.freeze`` of what exists at
start saved less and would keep for good any of it that later became garbage.)
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations between two young-generation passes (CPython: 700)


def tune() -> None:
    """Called once the bot has started; calling it again changes nothing more."""
    young, middle, old = gc.get_threshold()
    if young < YOUNG:
        gc.set_threshold(YOUNG, middle, old)
