"""Reading a worker's /metrics in tests."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

# The series the sockets feed (the list), and the HTTP one.
SOCKET_SERIES = [
    "parley_sockets_open",
    "parley_frames_in_total",
    "parley_frames_out_total",
    "parley_handshakes_refused_total",
    "parley_fanout_seconds",
    "parley_backend_errors_total",
]
ALL_SERIES = [*SOCKET_SERIES, "parley_http_requests_total"]


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of `url`/metrics by (name, sorted labels)."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
