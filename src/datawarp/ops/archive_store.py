"""Where archive files go (a folder on any pyarrow filesystem) and how a failed write is undone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from datawarp.core.errors import BadInputError, DataWarpError


class ArchiveFailed(DataWarpError):
    """Writing or checking an archive file failed; the database was left as it was."""

    exit_code = 1


@dataclass(frozen=True)
class ArchiveStore:
    """Where Parquet files go: a folder on any pyarrow filesystem."""

    filesystem: pafs.FileSystem
    root: str
    scheme: str | None = None  # s3, gs, ...; None for local paths

    @classmethod
    def at(cls, location: str) -> ArchiveStore:
        """A local folder or a filesystem URI (``s3://bucket/prefix``, ``gs://...``)."""
        uri = location if "://" in location else str(Path(location).expanduser().resolve())
        try:
            filesystem, root = pafs.FileSystem.from_uri(uri)
        except (pa.ArrowException, ValueError, OSError) as exc:
            raise BadInputError(f"Invalid archive_path {location!r}: {first_line(exc)}") from None
        return cls(filesystem, root.rstrip("/"), uri.split("://")[0] if "://" in uri else None)

    def shown(self, path: str) -> str:
        """The path as recorded in tbl_archives and shown to people."""
        return f"{self.scheme}://{path}" if self.scheme else path

    def prepare(self, name: str) -> str:
        """The path for ``name``, its folder created; a root that is a file is refused."""
        if self.filesystem.get_file_info(self.root).type == pafs.FileType.File:
            raise BadInputError(f"Archive folder {self.shown(self.root)} is a file")
        target = f"{self.root}/{name}"
        try:
            self.filesystem.create_dir(target.rsplit("/", 1)[0], recursive=True)
        except OSError as exc:
            raise ArchiveFailed(f"Cannot create {self.shown(target)}: {first_line(exc)}") from None
        return target


def first_line(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0]


@contextmanager
def removed_on_failure(store: ArchiveStore) -> Iterator[list[str]]:
    """Paths appended to the list are deleted if the block fails: a failed run leaves no file."""
    written: list[str] = []
    try:
        yield written
    except BaseException:
        for path in reversed(written):
            with suppress(OSError):  # never written, or already gone
                store.filesystem.delete_file(path)
        raise
