"""A community's automatic rules: flood control and word and link filters, decided purely."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from bot.config import RuleAction, RulesConfig
from bot.durations import format_duration

_LINK = re.compile(r"\bhttps?://([^\s/?#:]+)|\bwww\.([^\s/?#:]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    action: RuleAction
    rule: str  # "flood" or "filter", as the audit log names the actor
    reason: str


@dataclass(frozen=True, slots=True)
class _Filter:
    words: re.Pattern[str] | None
    domains: frozenset[str]  # "*" stands for any link
    action: RuleAction


class Rules:
    """One community's rules; remembers recent messages per participant for flood control."""

    def __init__(self, config: RulesConfig) -> None:
        self.flood = config.flood
        self.filters = [
            _Filter(
                re.compile(r"\b(?:" + "|".join(map(re.escape, f.words)) + r")\b", re.IGNORECASE)
                if f.words
                else None,
                frozenset(d.lower().removeprefix("www.") for d in f.links),
                f.action,
            )
            for f in config.filters
        ]
        self._recent: dict[str, deque[datetime]] = {}
        # No flood limit and no filter: ``check`` can only say None, so it is not asked.
        self.empty = self.flood is None and not self.filters

    def check(self, author: str, text: str, at: datetime) -> Verdict | None:
        """The first rule ``text`` breaks, or None; every call counts towards flooding."""
        flooding = self._count(author, at)
        for f in self.filters:
            if f.words and (found := f.words.search(text)):
                return Verdict(f.action, "filter", f"word “{found.group().lower()}”")
            if f.domains and (domain := _linked_domain(text, f.domains)):
                return Verdict(f.action, "filter", f"link to {domain}")
        if flooding and self.flood is not None:
            per = format_duration(self.flood.per)
            return Verdict(self.flood.action, "flood", f"over {self.flood.messages} in {per}")
        return None

    def _count(self, author: str, at: datetime) -> bool:
        if self.flood is None:
            return False
        window = self._recent.setdefault(author, deque(maxlen=self.flood.messages + 1))
        window.append(at)
        while window and window[0] <= at - self.flood.per:
            window.popleft()
        return len(window) > self.flood.messages


def _linked_domain(text: str, domains: frozenset[str]) -> str | None:
    for match in _LINK.finditer(text):
        host = (match.group(1) or match.group(2) or "").lower().removeprefix("www.")
        if "*" in domains or any(host == d or host.endswith("." + d) for d in domains):
            return host
    return None
