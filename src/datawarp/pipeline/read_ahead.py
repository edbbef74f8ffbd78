"""The first file of a batch, read ahead while the command starts (``excel_reader``).

Kept apart from ``pipeline.batch`` so that a command can start the read before importing the
loader: that import, the connection and the pre-load checks are what the read overlaps.
"""

from __future__ import annotations

from pathlib import Path

from datawarp.pipeline.manifest import Manifest


def read_first_sheet_ahead(manifest: Manifest, only_source: str | None = None) -> bool:
    """Start parsing the sheet the batch's first file will be read from, when that file is a
    local workbook; whether a parse was started."""
    from datawarp.pipeline.extract.excel_reader import read_sheet_ahead, sheet_xml_bytes

    for source in manifest.sources:
        if only_source is None or source.source_code == only_source:
            first = source.files[0]
            if first.path is None or first.member or source.member:
                return False
            path, sheet = Path(first.path), first.sheet or source.sheet
            if read_sheet_ahead(path, sheet) is None:
                return False
            if sheet_xml_bytes(path, sheet) >= PREPARE_ARROW_XML_BYTES:
                prepare_arrow_pass()
            return True
    return False


# A sheet this large parses for a third of a second or more, and its table is likely large
# enough to take the Arrow pass 2 (``ARROW_PASS_CELLS``): pyarrow is imported meanwhile.
PREPARE_ARROW_XML_BYTES = 24 << 20


def prepare_arrow_pass() -> None:
    """Import what a workbook's Arrow pass 2 and its binary COPY use (a tenth of a second),
    while calamine parses the sheet on the other core rather than after it."""
    import datawarp.catalog.staging_arrow  # noqa: F401
    import datawarp.pipeline.extract.arrow_rows  # noqa: F401
