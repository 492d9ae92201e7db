"""Metrics.child: the label child kept once made, counting into the same series."""

from __future__ import annotations

from prometheus_client import generate_latest

from bot.metrics import Metrics


def test_child_is_made_once_and_counts_like_labels() -> None:
    m = Metrics()
    first = m.child(m.events_rejected, "zalo_bot", "secret")
    assert m.child(m.events_rejected, "zalo_bot", "secret") is first
    assert m.child(m.events_rejected, "zalo_bot", "invalid") is not first
    first.inc()
    m.events_rejected.labels("zalo_bot", "secret").inc()
    text = generate_latest(m.registry).decode()
    assert 'antt_events_rejected_total{platform="zalo_bot",reason="secret"} 2.0' in text


def test_child_of_another_metric_with_the_same_labels_is_its_own() -> None:
    m = Metrics()
    m.child(m.events_received, "local").inc()
    m.child(m.events_duplicate, "local").inc(3)
    text = generate_latest(m.registry).decode()
    assert 'antt_events_received_total{platform="local"} 1.0' in text
    assert 'antt_events_duplicate_total{platform="local"} 3.0' in text


def test_no_series_before_first_use() -> None:
    m = Metrics()
    assert "antt_outbox_sent_total{" not in generate_latest(m.registry).decode()
    m.child(m.outbox_sent, "reply")
    assert 'antt_outbox_sent_total{kind="reply"} 0.0' in generate_latest(m.registry).decode()
