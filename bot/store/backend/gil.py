"""The GIL handed promptly to a database thread while the statements of a burst run."""

from __future__ import annotations

import sys
from types import TracebackType

# How long a thread that wants the GIL waits before asking the running one to let go,
# while a statement is under way (the interpreter's default is 5 ms).
PROMPT = 0.0001


class _WhileAStatementRuns:
    """Shortens the interpreter's switch interval while any statement is under way.

    aiosqlite runs each connection's statements on a thread of its own, which needs the
    GIL to start a statement and to hand its result back. A thread that waits for the GIL
    asks the running one to let go only once a whole interval passes without a switch;
    but a busy event loop lets go of it itself for a moment at every turn (its poll of
    the sockets) and takes it straight back, so the interval restarts at every turn and
    the database thread waits until the loop has nothing left to do. In a burst of
    answers the writer's first batch waited some 50 ms while the core worked through
    3,000 messages, and no insert ran beside the core. With a short interval the thread
    gets its turn within a turn or two of the loop, and SQLite's own work (done without
    the GIL) runs on the other core while the core reads on: ``make bench``'s ``large``
    went from about 33,000 to 43,000 messages a second. A statement asks for the GIL at
    least twice (to bind its values, and to hand its result back after SQLite's work),
    and each wait delays the next batch: a tenth of a millisecond took ``large`` from
    47,800 to 54,100 (interleaved, 30 runs each); 30 µs was no better than 100 (55,300
    against 53,600).

    Only around the statements of a burst (``SqliteDatabase.in_a_burst``, which the
    message writer uses for its batches of 50 rows or more): threads with Python work of
    their own (the Mastodon adapter's streaming readers) lose a tenth of their speed when
    switched out this often all the time (``make bench-intake``'s streaming
    ratio 0.86 -> 0.76). Overlapping statements keep it short until the last one ends.
    """

    def __init__(self) -> None:
        self._running = 0
        self._relaxed = PROMPT  # the interval to go back to once no statement runs

    def __enter__(self) -> None:
        if not self._running:
            self._relaxed = sys.getswitchinterval()
            if self._relaxed > PROMPT:
                sys.setswitchinterval(PROMPT)
        self._running += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._running -= 1
        if not self._running and self._relaxed > PROMPT:
            sys.setswitchinterval(self._relaxed)


while_a_statement_runs = _WhileAStatementRuns()
