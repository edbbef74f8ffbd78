"""The ``block_title`` of a file with no banner (docs/column-names.md, Banners).

A one-block edition of a publication often drops the banner its multi-block editions have
('England Level Data'); loaded into the same table, its rows would have a NULL ``block_title``
and ``WHERE block_title = 'England Level Data'`` would miss them. Such a file's rows take the
manifest's ``block_title:``, else, when the table already has a ``block_title`` column, the
title of the first (leftmost) block of the newest earlier load that had block titles.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from datawarp.catalog.block_titles import first_block_title

if TYPE_CHECKING:
    import psycopg

    from datawarp.pipeline.extract.engine import ExtractedTable
    from datawarp.pipeline.steps import FileJob


def with_inherited_title(conn: psycopg.Connection, job: FileJob) -> FileJob:
    """The job, its task carrying the title an earlier load gives (when the manifest gives
    none and the table has titled rows)."""
    task = job.task
    if task.entry.block_title or task.source.block_title:
        return job
    found = first_block_title(conn, job.target, job.source_code)
    if found is None:
        return job
    return replace(job, task=replace(task, inherited_block_title=found))


def block_title_note(job: FileJob, table: ExtractedTable) -> str | None:
    """The load report's line when the file's rows took an earlier load's block title."""
    inherited = job.task.inherited_block_title
    if table.given_block_title is None or inherited is None:
        return None
    title, load_id = inherited
    return (
        f"block_title: the file names no block; its rows take '{title}', the first block of"
        f" load {load_id} (set block_title: in the manifest to choose another)"
    )
