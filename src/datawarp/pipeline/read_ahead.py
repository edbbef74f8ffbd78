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
    from datawarp.pipeline.extract.excel_reader import read_sheet_ahead

    for source in manifest.sources:
        if only_source is None or source.source_code == only_source:
            first = source.files[0]
            if first.path is None or first.member or source.member:
                return False
            return read_sheet_ahead(Path(first.path), first.sheet or source.sheet) is not None
    return False
