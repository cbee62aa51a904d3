"""The process's Prometheus metrics, in a registry of its own per App.

A registry per App (not the client library's global one) keeps two Apps in one process,
as the tests run them, from adding to each other's figures.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds late: most posts land within a second; a minute or more means a real problem.
LATENESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """Counters the core updates as it works, served as text at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._steps = Counter(
            "hashchat_steps_posted",
            "Steps of a chat (reminder, welcome, questions, closing...) posted, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self._lateness = Histogram(
            "hashchat_post_lateness_seconds",
            "How long after its due time a step was posted.",
            ["platform"],
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self._stored = Counter(
            "hashchat_messages_stored",
            "Participants' messages, edits and deletions committed to the store.",
            registry=self.registry,
        )
        self._errors = Counter(
            "hashchat_platform_errors",
            "Platform requests that failed: refused (nothing posted) or uncertain.",
            ["platform", "kind"],
            registry=self.registry,
        )
        self._leader = Gauge(
            "hashchat_leader",
            "1 while this instance runs the chats, 0 while it stands by.",
            registry=self.registry,
        )
        self._leader.set(1)

    def step_posted(self, platform: str, lateness_seconds: float) -> None:
        self._steps.labels(platform).inc()
        self._lateness.labels(platform).observe(max(0.0, lateness_seconds))

    def platform_error(self, platform: str, kind: str) -> None:
        self._errors.labels(platform, kind).inc()

    def messages_stored(self, count: int) -> None:
        self._stored.inc(count)

    def leader(self, leading: bool) -> None:
        self._leader.set(1 if leading else 0)

    def text(self) -> bytes:
        return generate_latest(self.registry)
