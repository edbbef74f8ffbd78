"""The demo: what `datawarp demo` sets up on a fresh (usually embedded) database.

It registers a few NHS-shaped sources; the loader's issue extends it to generate sample files
and load them. Re-running is safe: sources already registered are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from datawarp import registry
from datawarp.errors import ConflictError

DEMO_OWNER = "datawarp.demo@nhs.net"

DEMO_SOURCES = (
    dict(
        source_code="ae_attendances",
        publication="A&E Attendances and Emergency Admissions",
        domain="Urgent and Emergency Care",
        purpose="Monthly A&E attendances and 4-hour performance by provider",
        load_mode="REPLACE",
    ),
    dict(
        source_code="rtt_waiting_times",
        publication="Consultant-led Referral to Treatment Waiting Times",
        domain="Elective Care",
        purpose="Incomplete RTT pathways by provider and treatment function",
        load_mode="REPLACE",
    ),
    dict(
        source_code="adhd_mi",
        publication="ADHD Management Information",
        domain="Clinical - Mental Health",
        purpose="Track ADHD referral waiting times",
        load_mode="APPEND",
    ),
)


@dataclass(frozen=True)
class DemoResult:
    registered: list[str]
    already_registered: list[str]
    sources: list[registry.SourceRecord]


def run_demo(conn: psycopg.Connection) -> DemoResult:
    registered, existing = [], []
    for spec in DEMO_SOURCES:
        try:
            registry.register_source(conn, owner=DEMO_OWNER, **spec)
            registered.append(spec["source_code"])
        except ConflictError:
            existing.append(spec["source_code"])
    codes = {spec["source_code"] for spec in DEMO_SOURCES}
    sources = [s for s in registry.list_sources(conn) if s.source_code in codes]
    return DemoResult(registered, existing, sources)
