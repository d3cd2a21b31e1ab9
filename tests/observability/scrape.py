"""Reading a Prometheus scrape in tests: one sample's value by name and labels."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    text: str

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0 when there is none)."""
        total = 0.0
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total

    def label_values(self, name: str, label: str) -> set[str]:
        """The values `label` takes in the samples called `name`."""
        return {
            sample.labels[label]
            for family in text_string_to_metric_families(self.text)
            for sample in family.samples
            if sample.name == name and label in sample.labels
        }

    def names(self) -> set[str]:
        return {sample.name for family in text_string_to_metric_families(self.text) for sample in family.samples}


async def scrape(http: httpx.AsyncClient, **headers: str) -> Scrape:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)
