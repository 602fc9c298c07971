"""Reading a running service's Prometheus metrics."""

from __future__ import annotations

import httpx
from flowlearn_cli.stack import Stack
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[str, list[tuple[dict[str, str], float]]]
CONSUMER_LAG = ("flowlearn_consumer_pending_messages", "flowlearn_consumer_ack_pending_messages")


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, url
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def caught_up(stack: Stack, service: str) -> bool:
    """Every event on the stream so far is handled and acknowledged by the service's
    consumers: their lag, which the service samples when its /metrics is read."""
    samples = scrape(stack.config.metrics_url(service))
    lag = [v for name in CONSUMER_LAG for _, v in samples.get(name, [])]
    return bool(lag) and not any(lag)
