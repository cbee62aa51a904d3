"""Errors a user can act on: each names the file, the field or line, and what is wrong."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one file, located as precisely as the parser allows."""

    file: str
    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            where = f"{where}: {self.field}"
        # A value quoted from the file may hold a NUL or an escape sequence: shown as
        # \x00, it can neither garble the terminal nor split the one line per problem.
        return _CONTROL.sub(lambda m: repr(m[0])[1:-1], f"{where}: {self.message}")


class ConfigError(Exception):
    """A config or agenda file cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls, file: str | Path, message: str, *, field: str | None = None, line: int | None = None
    ) -> ConfigError:
        return cls([Problem(str(file), message, field, line)])


class StartError(Exception):
    """Something the config names cannot be used at start-up (a port already taken): the
    message says what and which setting, so ``run`` shows it without a traceback."""
