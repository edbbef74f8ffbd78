"""`datawarp inspect`: preview what DataWarp would load from a file, before writing a manifest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from datawarp.cli.output import console, print_json
from datawarp.cli.state import state

if TYPE_CHECKING:
    from rich.console import RenderableType

    from datawarp.pipeline.extract.engine import ExtractedColumn
    from datawarp.pipeline.inspect import InspectReport

SHOWN_TOTAL_ROWS = 10
HEADER_WIDTH = 48
HEADER_FOLDED = 20  # the original header's narrowest useful width in the table


def inspect(
    ctx: typer.Context,
    file_or_url: Annotated[
        str, typer.Argument(metavar="FILE_OR_URL", help="A path, file:// URL or http(s) URL.")
    ],
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            help="Worksheet to read (default: the first data sheet; when several hold tables,"
            " a load needs sheet: NAME in the manifest).",
        ),
    ] = None,
    member: Annotated[
        str | None, typer.Option("--member", help="File inside a ZIP: exact name or glob.")
    ] = None,
    fill_down: Annotated[
        list[str] | None,
        typer.Option(
            "--fill-down",
            metavar="COLUMN",
            help="Fill the column's empty cells from the row above, as the manifest's"
            " fill_down: does (repeatable, or comma-separated).",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show what DataWarp would load from a spreadsheet, CSV or ZIP: sheets, header, columns.

    Lists the sheets (hidden, cover and notes sheets marked; when several hold tables, each with its rows, columns and first headers), the table found (header rows, first and last data row), each column's clean name, original header and PostgreSQL type, suppressed and empty cells per column, censored values (52+, <5) and where their text goes, the values that kept a column of numbers text, percentage units, totals rows and row levels (_level), the title-block metadata and warnings.

    Example: datawarp inspect Monthly-AE-September-2023.csv

    Example: datawarp inspect Beds-Open-Overnight.xlsx --sheet 'NHS Trust by Sector' --json

    Example: datawarp inspect RTT-Overview-Timeseries.xlsx --fill-down year
    """
    from datawarp.pipeline import inspect as inspect_report

    cache_dir = state(ctx).settings().cache_dir
    filled = [name.strip() for option in fill_down or [] for name in option.split(",")]
    report = inspect_report.inspect(
        file_or_url, sheet=sheet, member=member, cache_dir=cache_dir, fill_down=filled
    )
    if json_output:
        print_json(report.to_dict())
    else:
        render(report)


def render(report: InspectReport) -> None:
    console.print(_title(report))
    if report.format != "csv":
        console.print(_sheets_table(report))
    if report.metadata:
        console.print(_metadata_table(report))
    console.print(_layout_lines(report))
    console.print(_columns_view(report))
    for line in _value_lines(report):
        console.print(line)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


def _title(report: InspectReport) -> str:
    details = [report.format, f"{report.size:,} bytes", f"sha256 {report.sha256[:12]}"]
    if report.member:
        details.append(f"member {escape(report.member)}")
    if report.encoding:
        details.append(f"encoding {report.encoding}")
    if report.delimiter:
        details.append(f"delimiter {report.delimiter!r}")
    return f"[bold]{escape(report.file)}[/] ({', '.join(details)})"


def _sheets_table(report: InspectReport) -> Table:
    table = Table(title="Sheets", title_justify="left")
    for heading in ("", "sheet", "kind", "hidden", "table"):
        table.add_column(heading)
    candidates = {candidate.name: candidate for candidate in report.sheet_candidates}
    for sheet in report.sheets:
        found = {True: "yes", False: "", None: "?"}[sheet.has_table]
        if sheet.name in candidates:
            found = escape(candidates[sheet.name].detail)
        table.add_row(
            "→" if sheet.chosen else "",
            escape(sheet.name),
            sheet.kind,
            "hidden" if sheet.hidden else "",
            found,
        )
    return table


def _metadata_table(report: InspectReport) -> Table:
    table = Table(title="Title block", title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in report.metadata.items():
        table.add_row(escape(key), escape(" ".join(value.split())) or "[dim](blank)[/]")
    return table


def _layout_lines(report: InspectReport) -> str:
    layout = report.layout
    where = "line" if report.format == "csv" else "row"
    sheet = "" if report.format == "csv" else f"Sheet [bold]{escape(report.sheet)}[/]"
    if report.sheet_ambiguous:
        sheet += (
            f" [yellow](the first of {len(report.sheet_candidates)} sheets holding tables: a"
            " load needs sheet: NAME in the file's manifest entry; inspect another with"
            " --sheet NAME)[/]"
        )
    lines = [sheet] if sheet else []
    plural = "s" if len(layout.header_rows) > 1 else ""
    lines.append(
        f"Header {where}{plural} {', '.join(map(str, layout.header_rows))}; data {where}s "
        f"{layout.first_data_row or '-'} to {layout.last_data_row or '-'}; "
        f"[bold]{report.row_count:,}[/] rows"
        + (f" from {layout.blocks} side-by-side blocks" if layout.blocks > 1 else "")
    )
    if layout.notes_row:
        lines.append(f"Notes start at {where} {layout.notes_row}")
    if report.total_row_count:
        shown = ", ".join(map(str, report.total_rows[:SHOWN_TOTAL_ROWS]))
        more = report.total_row_count - min(report.total_row_count, SHOWN_TOTAL_ROWS)
        lines.append(
            f"Totals rows (_is_total): {report.total_row_count:,} ({where} {shown}"
            + (f" and {more:,} more" if more else "")
            + ")"
        )
    else:
        lines.append("Totals rows (_is_total): none")
    lines.append(_levels_line(report))
    if report.filled_down:
        filled = ", ".join(f"{name} {count:,}" for name, count in report.filled_down.items())
        lines.append(f"Filled down (empty cells that took the value above): {filled}")
    return "\n".join(lines)


def _levels_line(report: InspectReport) -> str:
    """Rows per ``_level`` ("national 1, region 7, organisation 152"), and those not placed."""
    if not report.row_levels:
        return "Row levels (_level): none (fewer than two levels found; every _level is NULL)"
    counts = [f"{level} {count:,}" for level, count in report.row_levels.items()]
    unplaced = report.row_count - sum(report.row_levels.values())
    if unplaced:
        counts.append(f"not placed {unplaced:,}")
    return f"Row levels (_level): {', '.join(counts)}"


def _columns_view(report: InspectReport) -> RenderableType:
    """The columns as a table when the terminal holds every name whole, else as a list.

    A name is what a manifest's ``primary_key:`` and ``columns:`` need: it is never cut.
    """
    table = _columns_table(report)
    # Each column at its widest cell, but the original header, which folds to a few words.
    widths = [
        max(len(column.header), *(cell_width(cell) for cell in column.cells))
        for column in table.columns
    ]
    widths[2] = min(widths[2], HEADER_FOLDED)
    if sum(widths) + 3 * len(widths) + 1 <= console.width:
        return table
    return _columns_list(report)


def _columns_table(report: InspectReport) -> Table:
    longest = max((len(column.name) for column in report.columns), default=0)
    table = Table(title=f"Columns ({len(report.columns)})", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("name", style="bold", no_wrap=True, min_width=longest)
    table.add_column("original header", max_width=HEADER_WIDTH, overflow="fold")
    table.add_column("type")
    table.add_column("suppressed", justify="right")
    table.add_column("nulls", justify="right")
    table.add_column("from", justify="right")
    for number, column in enumerate(report.columns, start=1):
        table.add_row(
            str(number),
            column.name,
            escape(" ".join(column.original_header.split())),
            _type_text(column),
            f"{column.suppressed_count:,}" if column.suppressed_count else "",
            f"{column.null_count:,}" if column.null_count else "",
            column.source_column or "",
        )
    return table


def _columns_list(report: InspectReport) -> Table:
    """One column per entry: its name whole on a line of its own, then the rest."""
    listing = Table.grid(padding=(0, 1))
    listing.title, listing.title_justify = f"Columns ({len(report.columns)})", "left"
    listing.add_column(justify="right")
    listing.add_column(overflow="fold")
    for number, column in enumerate(report.columns, start=1):
        details = [_type_text(column)]
        if column.suppressed_count:
            details.append(f"{column.suppressed_count:,} suppressed")
        if column.null_count:
            details.append(f"{column.null_count:,} nulls")
        if column.source_column:
            details.append(f"from {column.source_column}")
        header = " ".join(column.original_header.split())
        entry = Text.assemble(
            (column.name, "bold"), "\n", header, "\n", (" · ".join(details), "dim")
        )
        listing.add_row(str(number), entry)
    return listing


def cell_width(cell: object) -> int:
    return cell_len(str(cell))


def _type_text(column: ExtractedColumn) -> str:
    return column.pg_type + (" (all suppressed)" if column.is_fully_suppressed else "")


def _value_lines(report: InspectReport) -> list[str]:
    """Censored values, the values that kept a column of numbers text, and recorded units."""
    companions = {c.originals_of: c.name for c in report.columns if c.originals_of}
    lines = []
    for column in report.columns:
        if column.censored_count:
            shown = ", ".join(column.censored_values)
            lines.append(
                f"Censored: {column.name} has {column.censored_count:,} ({escape(shown)}): NULL"
                f" there, as written in {companions[column.name]}"
            )
        if column.kept_text_by:
            shown = ", ".join(repr(value) for value in column.kept_text_by)
            lines.append(f"Not numeric: {column.name} is text because of {escape(shown)}")
    units = [f"{c.name} ({c.unit})" for c in report.columns if c.unit]
    if units:
        lines.append("Units: " + ", ".join(units))
    return lines


def install(app: typer.Typer) -> None:
    app.command("inspect", epilog="Example: datawarp inspect Monthly-AE-September-2023.csv --json")(
        inspect
    )
