"""Prometheus metrics, in a registry per app so tests and instances do not share counters."""

from __future__ import annotations

from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[Any, ...], Any] = {}
        r = self.registry
        self.events_received = Counter(
            "antt_events_received", "Deliveries stored", ["platform"], registry=r
        )
        self.events_duplicate = Counter(
            "antt_events_duplicate",
            "Redeliveries answered 200, not stored again",
            ["platform"],
            registry=r,
        )
        self.events_rejected = Counter(
            "antt_events_rejected", "Deliveries refused", ["platform", "reason"], registry=r
        )
        self.events_processed = Counter(
            "antt_events_processed", "Inbox rows handled", ["status"], registry=r
        )
        self.processing_lag = Histogram(
            "antt_processing_lag_seconds",
            "From storing an event to handling it",
            registry=r,
            buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120),
        )
        self.outbox_pending = Gauge(
            "antt_outbox_pending", "Messages waiting to be sent", registry=r
        )
        self.outbox_sent = Counter("antt_outbox_sent", "Messages sent", ["kind"], registry=r)
        self.outbox_failed = Counter(
            "antt_outbox_failed", "Messages given up on", ["kind"], registry=r
        )
        self.send_retries = Counter(
            "antt_send_retries", "Sends retried later", ["reason"], registry=r
        )
        self.budget_left = Gauge(
            "antt_budget_left",
            "Messages left in this month's budget (+Inf when unlimited)",
            registry=r,
        )
        self.coordinators_reachable = Gauge(
            "antt_coordinators_reachable",
            "Coordinators the bot can message privately (0: alerts go to the council groups)",
            registry=r,
        )
        self.inbox_pending = Gauge("antt_inbox_pending", "Events waiting to be handled", registry=r)
        self.inbox_failed = Gauge(
            "antt_inbox_failed",
            "Events set aside after failing (antt-bot events failed / events retry)",
            registry=r,
        )
        self.connections_cut = Counter(
            "antt_connections_cut",
            "Connections closed for being slow or idle (header/body timeout, over the cap)",
            ["reason"],
            registry=r,
        )

    def child(self, metric: M, *values: str) -> M:
        """`metric.labels(*values)`, kept once made: `.labels()` validates and locks on every
        call, and the webhook and the sender count every delivery and send."""
        key = (id(metric), *values)
        found: M | None = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*values)
        return found
