"""DataWarp's own generator of NHS-style publication files (no network, no real data).

Used by ``datawarp demo``, the tests and the benchmarks. Every writer is deterministic: a
seeded ``random.Random`` per file, so the same arguments give the same values (and, for CSV
and ZIP, the same bytes). The layouts imitate NHS England's habits; the numbers are made up.

=============================  =========================================================
``write_ae_provider_xlsx``     Monthly A&E provider workbook: title block, banner with a
                               stray count, merged two-row header, England row, ``*``/``-``
                               suppression, notes; ``layout_version=2`` drifts the layout
``write_ae_provider_csv``      The same data as the published one-header CSV, TOTAL row
                               last; ``encoding="cp1252"`` gives Windows-1252 bytes
``write_rtt_zip``              RTT full-extract CSV in a ZIP with a ``__MACOSX`` junk member
``write_large_csv``            12-column CSV of N rows, streamed (benchmarks)
``write_large_xlsx``           The same 12 columns in a write-only xlsx (benchmarks)
``write_demo_publication``     All of the above for the demo, plus ``manifest.yaml``
=============================  =========================================================
"""

from __future__ import annotations

from pathlib import Path

import yaml

from datawarp.demo.samplegen_ae import ae_layout, write_ae_provider_csv, write_ae_provider_xlsx
from datawarp.demo.samplegen_bulk import (
    LARGE_HEADERS,
    rtt_headers,
    write_large_csv,
    write_large_xlsx,
    write_rtt_zip,
)
from datawarp.demo.samplegen_data import AEData, Provider, make_ae_data, make_providers

__all__ = [
    "AEData",
    "DEMO_OWNER",
    "DEMO_PERIODS",
    "DEMO_SOURCES",
    "LARGE_HEADERS",
    "Provider",
    "ae_layout",
    "demo_manifest",
    "make_ae_data",
    "make_providers",
    "rtt_headers",
    "write_ae_provider_csv",
    "write_ae_provider_xlsx",
    "write_demo_publication",
    "write_large_csv",
    "write_large_xlsx",
    "write_rtt_zip",
]

DEMO_OWNER = "datawarp.demo@nhs.net"
DEMO_PERIODS = ("2025-08", "2025-09")  # the A&E workbook's layout drifts between the two
AE_PUBLICATION = "A&E Attendances and Emergency Admissions"
RTT_PUBLICATION = "Consultant-led Referral to Treatment Waiting Times"

DEMO_SOURCES: tuple[dict[str, str], ...] = (
    dict(
        source_code="ae_attendances",
        publication=AE_PUBLICATION,
        domain="Urgent and Emergency Care",
        owner=DEMO_OWNER,
        purpose="Monthly A&E attendances, 4-hour performance and admissions by provider",
        load_mode="REPLACE",
    ),
    dict(
        source_code="ae_attendances_csv",
        publication=AE_PUBLICATION,
        domain="Urgent and Emergency Care",
        owner=DEMO_OWNER,
        purpose="The provider-level A&E CSV, as published beside the workbook",
        load_mode="REPLACE",
    ),
    dict(
        source_code="rtt_waiting_times",
        publication=RTT_PUBLICATION,
        domain="Elective Care",
        owner=DEMO_OWNER,
        purpose="RTT pathways by provider, treatment function and weeks waited",
        load_mode="APPEND",
    ),
)

# Column descriptions use the names the extractor gives (extract.column_names.table_names on
# 'band_sub' headers); each named column is present in both layout versions.
_AE_COLUMNS = {
    "org_code": {"description": "ODS code of the provider", "search_terms": ["trust", "provider"]},
    "org_name": {"description": "Name of the provider organisation"},
    "region": {"description": "NHS England region of the provider", "search_terms": ["region"]},
    "a_and_e_attendances_type_1_departments_major_a_and_e": {
        "description": "Attendances at type 1 (major, consultant-led 24-hour) A&E departments",
        "search_terms": ["type 1", "attendances", "emergency department"],
    },
    "a_and_e_attendances_total_attendances": {
        "description": "All A&E attendances in the month",
        "search_terms": ["attendances"],
    },
    "total_emergency_admissions": {
        "description": "Emergency admissions via A&E and by other routes",
        "search_terms": ["admissions"],
    },
    "waits_from_decision_to_admit_to_admission_x12_plus_hrs": {
        "description": "Patients waiting 12 hours or more from decision to admit to admission",
        "search_terms": ["trolley wait", "12 hours"],
    },
}
_AE_CSV_COLUMNS = {
    "org_code": {"description": "ODS code of the provider", "search_terms": ["trust", "provider"]},
    "parent_org": {"description": "NHS England region of the provider"},
    "a_and_e_attendances_type_1": {"description": "Attendances at type 1 A&E departments"},
    "patients_who_have_waited_12_plus_hrs_from_dta_to_admission": {
        "description": "Patients waiting 12 hours or more from decision to admit to admission",
    },
}
_RTT_COLUMNS = {
    "provider_org_code": {"description": "ODS code of the provider", "search_terms": ["trust"]},
    "rtt_part_type": {"description": "Part_1A/1B completed, Part_2/2A incomplete, Part_3 new"},
    "treatment_function_code": {"description": "Treatment function; C_999 is the total"},
    "total": {"description": "Pathways with a known clock start, all weeks"},
    "total_all": {"description": "All pathways, including unknown clock start dates"},
}


def demo_manifest(ae_files: list[tuple[str, str]], ae_csv: str, rtt_zip: str) -> dict:
    """The demo manifest as a mapping; file names are relative to the manifest's folder."""
    return {
        "publication": AE_PUBLICATION,
        "period": DEMO_PERIODS[-1],
        "sources": [
            {
                "source_code": "ae_attendances",
                "sheet": "Provider Level Data",
                "primary_key": ["org_code"],
                "columns": _AE_COLUMNS,
                "files": [{"path": f"./{name}", "period": period} for name, period in ae_files],
            },
            {
                "source_code": "ae_attendances_csv",
                "primary_key": ["org_code"],
                "columns": _AE_CSV_COLUMNS,
                "path": f"./{ae_csv}",
                "period": DEMO_PERIODS[-1],
            },
            {
                "source_code": "rtt_waiting_times",
                "primary_key": ["provider_org_code", "rtt_part_type", "treatment_function_code"],
                "columns": _RTT_COLUMNS,
                "files": [{"path": f"./{rtt_zip}", "period": DEMO_PERIODS[-1], "member": "*.csv"}],
            },
        ],
    }


def write_demo_publication(folder: Path | str, *, seed: int = 0) -> Path:
    """Write the demo files into ``folder`` (created if needed) and return ``manifest.yaml``.

    Two periods of the A&E workbook (the second with the drifted layout), the A&E CSV in
    Windows-1252, the RTT ZIP, and a manifest that names them by relative path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ae_files = [
        (write_ae_provider_xlsx(folder, period, seed=seed, layout_version=version).name, period)
        for version, period in enumerate(DEMO_PERIODS, start=1)
    ]
    ae_csv = write_ae_provider_csv(folder, DEMO_PERIODS[-1], seed=seed, encoding="cp1252")
    rtt = write_rtt_zip(folder, DEMO_PERIODS[-1], seed=seed)
    manifest = demo_manifest(ae_files, ae_csv.name, rtt.name)
    text = yaml.safe_dump(manifest, sort_keys=False, default_flow_style=None, width=200)
    header = "# DataWarp demo publication (synthetic data); paths are relative to this file.\n"
    path = folder / "manifest.yaml"
    path.write_text(header + text, encoding="utf-8")
    return path
