"""The load manifest: which files to load into which registered sources.

Parsed with PyYAML's node API so that every problem can be reported with the line it is on,
then validated with pydantic. All problems are reported at once, one line each.
See docs/manifest.md for the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from datawarp.core.errors import BadInputError, InputProblems
from datawarp.core.gate_settings import GateOverrides
from datawarp.core.naming import SourceCode
from datawarp.core.periods import parse_period
from datawarp.core.vocabulary import PeriodSource

# `period: none`: the file has no period (a whole time series), said on purpose; REPLACE then
# replaces the whole table. Without it, a file whose period cannot be found is refused there.
NO_PERIOD = "none"


class ColumnMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    search_terms: list[str] = Field(default_factory=list)


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    path: str | None = None
    period: str | None = None
    member: str | None = None
    sheet: str | None = None
    fill_down: list[str] | None = None  # None: the source's
    block_title: str | None = None  # None: the source's
    period_kind: str | None = Field(default=None, exclude=True)
    period_source: PeriodSource | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _one_location(self) -> FileEntry:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of url or path")
        if _says_none(self.period):
            self.period, self.period_kind, self.period_source = None, None, PeriodSource.NONE
        return self

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str | None:
        return None if value is None else _normalised_period(value)

    @field_validator("fill_down", mode="before")
    @classmethod
    def _fill_down(cls, value: Any) -> Any:
        return None if value is None else _column_list(value)

    @field_validator("block_title", mode="before")
    @classmethod
    def _block_title(cls, value: Any) -> Any:
        return _title(value)


class SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_code: SourceCode
    sheet: str | None = None
    member: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    fill_down: list[str] = Field(default_factory=list)  # empty cells take the value above
    block_title: str | None = None  # the block_title of rows of a file with no banner
    cumulative: bool = False  # each file repeats the earlier periods: growth is expected
    columns: dict[str, ColumnMeta] = Field(default_factory=dict)
    files: list[FileEntry] = Field(default_factory=list)
    # gate settings for this source: the model of [datawarp.validation.sources.<code>]
    validation: GateOverrides = Field(default_factory=GateOverrides)
    # single-file shorthand
    url: str | None = None
    path: str | None = None
    period: str | None = None

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str | None:
        return None if value is None else _normalised_period(value)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _key_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("fill_down", mode="before")
    @classmethod
    def _fill_down(cls, value: Any) -> Any:
        return [] if value is None else _column_list(value)

    @field_validator("block_title", mode="before")
    @classmethod
    def _block_title(cls, value: Any) -> Any:
        return _title(value)

    @model_validator(mode="after")
    def _files_or_shorthand(self) -> SourceEntry:
        shorthand = self.url is not None or self.path is not None
        if shorthand and self.files:
            raise ValueError("use either files: or url/path on the source, not both")
        if shorthand:
            self.files = [FileEntry(url=self.url, path=self.path, period=self.period)]
        if not self.files:
            raise ValueError("no files: give files: or url/path")
        return self


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publication: str | None = None
    period: str | None = None
    sources: list[SourceEntry]
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str | None:
        return None if value is None else _normalised_period(value)

    @field_validator("sources")
    @classmethod
    def _unique_pairs(cls, sources: list[SourceEntry]) -> list[SourceEntry]:
        if not sources:
            raise ValueError("must list at least one source")
        return sources


def _title(value: Any) -> Any:
    """A block title: text, written out (``block_title: England Level Data``)."""
    if isinstance(value, str) and not value.strip():
        raise ValueError("the block title is empty")
    return value.strip() if isinstance(value, str) else value


def _column_list(value: Any) -> Any:
    """A column name or a list of them (``fill_down: year`` is ``[year]``), each written out."""
    names = [value] if isinstance(value, str) else value
    if isinstance(names, list):
        for name in names:
            if isinstance(name, str) and not name.strip():
                raise ValueError("a column name is empty")
    return names


def _says_none(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == NO_PERIOD


def _normalised_period(value: Any) -> str:
    """Check the period where it is written (for the line number); keep the text as written.

    Normalising happens in ``_resolve_paths``, which also records the kind of period, since
    the canonical text alone can be ambiguous (see datawarp.core.periods).
    """
    if _says_none(value):
        return NO_PERIOD
    try:
        parse_period(value)
    except BadInputError as exc:
        raise ValueError(exc.message) from None
    return str(value)


MAX_MANIFEST_BYTES = 1 << 20  # a manifest lists files; a megabyte is thousands of them
MAX_DEPTH = 16  # the deepest real manifest nests 5 levels
MAX_NODES = 200_000  # values after aliases are expanded: far above any real manifest


class _LineIndex:
    """Maps a path of keys/indexes in the document to the line (1-based) it starts on.

    Building the plain data also guards it: a key written twice in one mapping is refused
    with both lines (YAML would keep the last silently), and aliases may not expand the
    document beyond ``MAX_NODES`` values (a "billion laughs" file expands exponentially).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: dict[tuple, int] = {}
        self.nodes = 0
        self._scalars: dict[int, Any] = {}  # an alias reuses its anchor's node: resolve once

    def build(self, node: yaml.Node, path: tuple = ()) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InputProblems([f"{self.name}: aliases expand it beyond {MAX_NODES:,} values"
                                 " (is an anchor used recursively?)"])  # fmt: skip
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result = {}
            for key_node, value_node in node.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in result:
                    raise InputProblems([f"{self.name}:{line}: key {key!r} appears twice in one"
                                         f" mapping (lines {self.lines[(*path, key)]} and"
                                         f" {line}); keep one"])  # fmt: skip
                self.lines[(*path, key)] = line
                result[key] = self.build(value_node, (*path, key))
                self.lines[(*path, key)] = line
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if id(node) not in self._scalars:
            self._scalars[id(node)] = _scalar(node)
        return self._scalars[id(node)]

    def line_for(self, loc: tuple) -> int:
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1


def _scalar(node: yaml.ScalarNode) -> Any:
    """Resolve a scalar with the safe loader's rules (so 2025 is an int, 'x' a str)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _check_size_and_depth(text: str, name: str) -> None:
    """Bounds checked on the event stream, before the recursive composer sees the text."""
    if len(text.encode("utf-8", "replace")) > MAX_MANIFEST_BYTES:
        raise InputProblems([f"{name}: larger than {MAX_MANIFEST_BYTES // 1024} KB; a manifest"
                             " lists files, split it into several"])  # fmt: skip
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    raise InputProblems([f"{name}:{line}: nested more than {MAX_DEPTH} levels"
                                         " deep; a manifest needs a few"])  # fmt: skip
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # compose reports syntax errors with their line


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _format_loc(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_manifest(
    text: str, *, name: str = "manifest.yaml", base_dir: Path | None = None
) -> Manifest:
    """Parse and validate manifest text; raises InputProblems listing every problem by line."""
    _check_size_and_depth(text, name)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise InputProblems([f"{where}: YAML syntax error: {exc.problem or exc}"]) from None
    except yaml.YAMLError as exc:  # e.g. a control character the YAML reader refuses
        detail = " ".join(str(exc).split())
        raise InputProblems([f"{name}: not readable as YAML ({detail})"]) from None
    if root is None:
        raise InputProblems([f"{name}: the manifest is empty"])
    index = _LineIndex(name)
    data = index.build(root)
    if not isinstance(data, dict):
        raise InputProblems([f"{name}:1: the manifest must be a mapping with a sources: list"])
    try:
        manifest = Manifest(**data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not str(part).startswith("function-"))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            elif error["type"] == "missing":
                message = "required key missing"
            elif error["type"] in ("model_type", "dict_type", "model_attributes_type"):
                message = (f"expected keys with values (such as source_code: and path:), not"
                           f" {_shown(error['input'])}")  # fmt: skip
            elif error["type"] == "list_type":
                message = f"expected a list (lines starting with -), not {_shown(error['input'])}"
            problems.append(f"{name}:{index.line_for(loc)}: {_format_loc(loc)}: {message}")
        raise InputProblems(problems) from None
    _resolve_paths(manifest, base_dir)
    return manifest


def _resolve_paths(manifest: Manifest, base_dir: Path | None) -> None:
    """Relative paths are relative to the manifest's folder, not to the current directory.

    Each file's period is the nearest one written (file, source, top), normalised; a file with
    none written is left for the loader to find in the file itself.
    """
    for source in manifest.sources:
        for entry in source.files:
            if entry.path is not None and base_dir is not None:
                candidate = Path(entry.path).expanduser()
                entry.path = str(candidate if candidate.is_absolute() else base_dir / candidate)
            if entry.period_source == PeriodSource.NONE:
                continue
            written = entry.period or source.period or manifest.period
            if _says_none(written):
                entry.period, entry.period_kind = None, None
                entry.period_source = PeriodSource.NONE
            elif written is not None:
                period = parse_period(written)
                entry.period, entry.period_kind = period.text, period.kind
                entry.period_source = PeriodSource.MANIFEST


def load_manifest(path: Path) -> Manifest:
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"Manifest {path} not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"Manifest {path} is not UTF-8 text ({exc.reason})") from None
    manifest = parse_manifest(text, name=str(path), base_dir=path.resolve().parent)
    manifest.path = path
    return manifest
