"""``/metrics`` for Prometheus: a collector that reads the catalog at each scrape.

Nothing is counted in the server's memory, so the figures survive restarts, agree with the
dashboards, and several ``datawarp serve`` processes report the same numbers. Loads count
over the whole history, into ``staging`` only (as on the dashboards), from the totals the
load events' trigger keeps (migration 0013; the buckets' bounds, seconds, are set there). When the catalog cannot
be read the scrape fails (HTTP 503), which Prometheus records as ``up == 0``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from starlette.requests import Request
from starlette.responses import Response

from datawarp.catalog import report_queries
from datawarp.catalog.pool import ReadPool
from datawarp.core.vocabulary import FINAL_LOAD_STATUSES, AlertSeverity
from datawarp.web.data import reading, site

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class CatalogCollector:
    """A prometheus_client collector: every family read from the catalog when scraped."""

    def __init__(self, pool: ReadPool):
        self.pool = pool

    def describe(self) -> list[Metric]:
        return []  # nothing to read at registration; the names are checked at scrape time

    def collect(self) -> Iterator[Metric]:
        with reading(self.pool) as conn:
            statuses = report_queries.loads_by_status(conn)
            buckets, count, total = report_queries.load_duration_histogram(conn)
            last = report_queries.last_successful_loads(conn)
            rows = report_queries.source_rows(conn)
            alerts = report_queries.open_alerts_by_severity(conn)
            tables = report_queries.table_bytes(conn)
        loads = CounterMetricFamily(
            "datawarp_loads", "Finished loads into staging, whole history", labels=["status"]
        )
        for status in FINAL_LOAD_STATUSES:
            loads.add_metric([status.value], statuses.get(status.value, 0))
        yield loads
        yield HistogramMetricFamily(
            "datawarp_load_duration_seconds",
            "Duration of completed loads into staging, whole history",
            buckets=[(_le(b), n) for b, n in buckets] + [("+Inf", count)],
            sum_value=total,
        )
        yield _gauge(
            "datawarp_last_successful_load_timestamp_seconds",
            "When each source's latest completed load into staging finished (Unix time)",
            ["source"],
            {(code,): at.timestamp() for code, at in last.items()},
        )
        yield _gauge("datawarp_source_rows", "Rows in each source's staging table after its"
                     " latest completed load", ["source"], {(c,): n for c, n in rows.items()})  # fmt: skip
        yield _gauge(
            "datawarp_open_alerts",
            "Open and acknowledged alerts by severity",
            ["severity"],
            {(s.value,): alerts.get(s.value, 0) for s in AlertSeverity},
        )
        yield _gauge("datawarp_table_bytes", "Size of each table in the data schemas, with"
                     " indexes and TOAST", ["schema", "table"],
                     {(t["schema_name"], t["table_name"]): t["total_bytes"] for t in tables})  # fmt: skip


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{bound:.1f}"


def _gauge(name: str, help_text: str, labels: list[str], values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


def metrics(request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CatalogCollector(site(request).pool))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
