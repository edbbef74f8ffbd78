"""The first file of a batch, read ahead while the command starts.

Kept apart from ``pipeline.batch`` so that a command can start the work before importing the
loader: that import, the connection and the pre-load checks are what the work overlaps, on
the other core. The file's fingerprint and a CSV's encoding are worked out ahead
(``file_ahead``); a plain CSV's table is typed from its first block and last lines for the
load's one read (``one_pass.open_provisional_ahead``); a workbook's likeliest table sheet is
parsed ahead (``excel_reader``).
"""

from __future__ import annotations

from pathlib import Path

from datawarp.pipeline.manifest import Manifest


def read_first_file_ahead(
    manifest: Manifest, only_source: str | None = None, *, loading: bool = True
) -> bool:
    """Start the work the batch's first file will need first, when that file is local;
    whether a workbook's sheet parse was started. ``loading``: the batch loads its files (not
    a dry run), so a plain CSV's table can be typed from its first block ahead too."""
    for source in manifest.sources:
        if only_source is None or source.source_code == only_source:
            first = source.files[0]
            if first.path is None or first.member or source.member:
                return False
            fill_down = source.fill_down if first.fill_down is None else first.fill_down
            one_read = loading and not (fill_down or first.block_title or source.block_title)
            try:
                return _read_ahead(Path(first.path), first.sheet or source.sheet, one_read)
            except Exception:  # noqa: BLE001 - only ever a head start: the load does the work
                return False
    return False


def _read_ahead(path: Path, sheet: str | None, one_read: bool) -> bool:
    from datawarp.pipeline.extract.csv_reader import file_encoding
    from datawarp.pipeline.extract.env_limits import arrow_enabled
    from datawarp.pipeline.extract.file_ahead import AHEAD
    from datawarp.pipeline.extract.formats import sniff
    from datawarp.pipeline.fetch import file_sha256

    try:
        kind = sniff(path, path.name)
    except Exception:  # noqa: BLE001 - the loader opens the file itself and reports
        return False
    AHEAD.start("sha256", path, file_sha256)
    if kind == "csv":
        # Its module (pyarrow) is imported here, not on the thread: the loader imports on
        # this one meanwhile, and imports on two threads at once can wait on each other.
        import datawarp.pipeline.extract.utf8_scan  # noqa: F401

        AHEAD.start("encoding", path, file_encoding)
        if one_read and arrow_enabled():  # pipeline.one_read: the table from the first block
            from datawarp.pipeline.extract.one_pass import open_provisional_ahead

            open_provisional_ahead(path, sheet)
        return False
    # The workbook reader (calamine, the XML scans) only for a workbook: a CSV's load never
    # imports it.
    from datawarp.pipeline.extract.excel_reader import (
        open_book_ahead,
        read_sheet_ahead,
        sheet_xml_bytes,
    )
    from datawarp.pipeline.extract.xlsx_extent import ARROW_SHEET_XML_BYTES

    if kind == "xls":
        open_book_ahead(path)
    if read_sheet_ahead(path, sheet) is None:
        return False
    if arrow_enabled() and sheet_xml_bytes(path, sheet) >= ARROW_SHEET_XML_BYTES:
        prepare_arrow_pass()
    return True


def prepare_arrow_pass() -> None:
    """Import what a workbook's Arrow pass 2 and its binary COPY use (a tenth of a second),
    while calamine parses the sheet on the other core rather than after it."""
    import datawarp.catalog.staging_arrow  # noqa: F401
    import datawarp.pipeline.extract.arrow_rows  # noqa: F401
