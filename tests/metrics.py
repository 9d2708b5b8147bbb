"""Reading a Prometheus /metrics page in tests, with prometheus_client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


def sample_sum(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when absent).

    `name` is the sample name as exposed, e.g. `..._total` for a counter.
    """
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def scrape(base_url: str, name: str, **labels: str) -> float:
    return sample_sum(httpx.get(f"{base_url}/metrics", timeout=5).text, name, **labels)
