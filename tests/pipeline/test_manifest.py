"""Manifest parsing: the documented format, normalised periods, line-precise errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from datawarp.core.errors import BadInputError, InputProblems
from datawarp.core.periods import parse_period
from datawarp.pipeline.manifest import load_manifest, parse_manifest

FULL = textwrap.dedent(
    """\
    publication: A&E Attendances and Emergency Admissions   # informational
    period: 2025-09                                         # default for every file
    sources:
      - source_code: ae_by_provider
        sheet: Provider Level Data
        primary_key: [org_code]
        columns:
          org_code: {description: "ODS code of the provider", search_terms: [trust, provider]}
        files:
          - {url: https://www.england.nhs.uk/x/Monthly-AE-September-2025.xls, period: 2025-09}
          - {path: ./local/Monthly-AE-October-2025.csv, period: 2025-10, member: "*.csv"}
      - source_code: single_file
        path: data/file.csv
        period: 2025/26
    """
)


def test_full_example_parses_with_defaults_and_resolved_paths(tmp_path):
    manifest = parse_manifest(FULL, base_dir=tmp_path)
    ae, single = manifest.sources
    assert ae.primary_key == ["org_code"]
    assert ae.columns["org_code"].search_terms == ["trust", "provider"]
    assert [f.period for f in ae.files] == ["2025-09", "2025-10"]
    assert ae.files[1].path == str(tmp_path / "local" / "Monthly-AE-October-2025.csv")
    assert ae.files[1].member == "*.csv"
    assert single.files[0].path == str(tmp_path / "data" / "file.csv")
    assert (single.files[0].period, single.files[0].period_kind) == ("2025-26", "fiscal_year")


def test_file_without_period_takes_the_manifest_default(tmp_path):
    text = "period: Sep 2025\nsources:\n  - source_code: a\n    path: x.csv\n"
    entry = parse_manifest(text, base_dir=tmp_path).sources[0].files[0]
    assert (entry.period, entry.period_kind) == ("2025-09", "month")


def test_manifest_file_paths_are_relative_to_the_manifest_folder(tmp_path, monkeypatch):
    folder = tmp_path / "pub"
    folder.mkdir()
    (folder / "m.yaml").write_text("sources:\n  - source_code: a\n    path: x.csv\n")
    monkeypatch.chdir(tmp_path)
    manifest = load_manifest(Path("pub/m.yaml"))
    assert manifest.sources[0].files[0].path == str(folder.resolve() / "x.csv")


@pytest.mark.parametrize(
    ("written", "canonical", "kind"),
    [
        ("2025-09", "2025-09", "month"),
        ("September 2025", "2025-09", "month"),
        ("Sep-25", "2025-09", "month"),
        ("2025-09-01", "2025-09", "month"),
        ("2025-Q2", "2025-Q2", "quarter"),
        ("Q2 2025", "2025-Q2", "quarter"),
        ("2025-26", "2025-26", "fiscal_year"),
        ("2025/26", "2025-26", "fiscal_year"),
        ("FY2011-12", "2011-12", "fiscal_year"),
        ("2011-12", "2011-12", "month"),
        ("2025", "2025", "year"),
        ("2010-11-07", "2010-11-07", "day"),
    ],
)
def test_periods_are_normalised(written, canonical, kind):
    period = parse_period(written)
    assert (period.text, period.kind) == (canonical, kind)


@pytest.mark.parametrize("bad", ["2025-13x", "2025-27", "Smarch 2025", "", "Q5 2025"])
def test_unparseable_period_is_an_error(bad):
    with pytest.raises(BadInputError, match="Unparseable period"):
        parse_period(bad)


def _problems(text: str) -> list[str]:
    with pytest.raises(InputProblems) as excinfo:
        parse_manifest(text, name="m.yaml")
    return excinfo.value.problems


def test_yaml_syntax_error_names_the_line():
    text = "sources:\n  - source_code: a\n    files: [ {path: x.csv\n"
    (problem,) = _problems(text)
    assert problem.startswith("m.yaml:4:") and "YAML syntax error" in problem


def test_unknown_key_names_its_line():
    text = "sources:\n  - source_code: a\n    path: x.csv\n    sheeet: Data\n"
    assert _problems(text) == ["m.yaml:4: sources[0].sheeet: unknown key 'sheeet'"]


def test_every_problem_is_reported_at_once():
    text = textwrap.dedent(
        """\
        sources:
          - source_code: Bad-Code
            path: a.csv
          - source_code: ok
            files:
              - {path: b.csv, url: https://x/b.csv}
              - {path: c.csv, period: 2025-13x}
          - source_code: empty
        """
    )
    problems = _problems(text)
    assert problems[0].startswith("m.yaml:2: sources[0].source_code: use lowercase letters")
    assert "m.yaml:6: sources[1].files[0]: give exactly one of url or path" in problems
    assert any(p.startswith("m.yaml:7: sources[1].files[1].period: Unparseable") for p in problems)
    assert "m.yaml:8: sources[2]: no files: give files: or url/path" in problems


def test_missing_sources_and_empty_manifest():
    assert _problems("publication: x\n") == ["m.yaml:1: sources: required key missing"]
    assert _problems("") == ["m.yaml: the manifest is empty"]
    assert _problems("- a\n- b\n") == [
        "m.yaml:1: the manifest must be a mapping with a sources: list"
    ]


def test_missing_manifest_file(tmp_path):
    with pytest.raises(BadInputError, match=r"Manifest .*nope.yaml not found"):
        load_manifest(tmp_path / "nope.yaml")


def _laughs(levels: int) -> str:
    lines = ["l0: &l0 ['ha', 'ha', 'ha', 'ha', 'ha', 'ha', 'ha', 'ha', 'ha']"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines) + "\nsources: []\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources:\n  - source_code: ae\n    path: a.csv\n    source_code: rtt\n",
         "manifest.yaml:4: key 'source_code' appears twice in one mapping (lines 2 and 4)"),
        ("period: 2025-09\nsources: []\nperiod: 2025-10\n",
         "manifest.yaml:3: key 'period' appears twice in one mapping (lines 1 and 3)"),
        (_laughs(9), "manifest.yaml: aliases expand it beyond 200,000 values"),
        ("sources: " + "[" * 5000 + "]" * 5000 + "\n",
         "manifest.yaml:1: nested more than 16 levels deep"),
        ("# " + "x" * (2 << 20) + "\nsources: []\n", "manifest.yaml: larger than 1024 KB"),
    ],
    ids=["duplicate source_code", "duplicate top-level key", "billion laughs", "deep", "big"],
)  # fmt: skip
def test_hostile_manifests_are_one_line_problems(text, expected):
    with pytest.raises(InputProblems) as caught:
        parse_manifest(text)
    (problem,) = caught.value.problems
    assert problem.startswith(expected) and "\n" not in problem


def test_an_alias_within_the_budget_still_works():
    manifest = parse_manifest(
        "sources:\n  - source_code: ae\n    path: a.csv\n    period: &month 2025-09\n"
        "  - source_code: rtt\n    path: b.csv\n    period: *month\n"
    )
    assert [s.period for s in manifest.sources] == ["2025-09", "2025-09"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources:\n  - just a string\n", "manifest.yaml:2: sources[0]: expected keys with values"),
        (
            "sources: 5\n",
            "manifest.yaml:1: sources: expected a list (lines starting with -), not 5",
        ),
    ],
)
def test_shape_problems_name_no_internal_class(text, expected):
    with pytest.raises(InputProblems) as caught:
        parse_manifest(text)
    (problem,) = caught.value.problems
    assert problem.startswith(expected) and "SourceEntry" not in problem


def test_period_none_says_the_file_has_no_period_and_wins_over_a_default(tmp_path):
    text = textwrap.dedent(
        """\
        period: 2025-09
        sources:
          - source_code: a
            files:
              - {path: x.csv}
              - {path: series.csv, period: none}
              - {path: y.csv, period: week ending 2023-10-01}
          - source_code: b
            path: z.csv
            period: None
        """
    )
    manifest = parse_manifest(text, base_dir=tmp_path)
    found = [(f.period, f.period_kind, f.period_source) for s in manifest.sources for f in s.files]
    assert found == [
        ("2025-09", "month", "manifest"),
        (None, None, "none"),
        ("2023-10-01", "week_ending", "manifest"),
        (None, None, "none"),
    ]


def test_a_file_without_any_period_is_left_for_the_loader_to_find(tmp_path):
    entry = parse_manifest("sources:\n  - source_code: a\n    path: x.csv\n").sources[0].files[0]
    assert (entry.period, entry.period_kind, entry.period_source) == (None, None, None)


def test_a_recorded_entry_loads_the_same_way_again(tmp_path):
    """What a load event keeps for `loads retry`: period: none stays none, and an inferred
    period keeps its kind and where it came from."""
    from datawarp.pipeline.manifest import SourceEntry
    from datawarp.pipeline.preflight import FileTask

    text = "sources:\n  - source_code: a\n    files:\n      - {path: s.csv, period: none}\n"
    source = parse_manifest(text, base_dir=tmp_path).sources[0]
    recorded = FileTask(source, source.files[0], None).manifest_entry()
    assert recorded["files"][0]["period"] == "none"
    again = SourceEntry(**recorded).files[0]
    assert (again.period, again.period_source) == (None, "none")

    inferred = source.files[0].model_copy(
        update={"period": "2010-11-07", "period_kind": "week_ending", "period_source": "title"}
    )
    recorded = FileTask(source, inferred, None).manifest_entry()
    again = SourceEntry(**recorded).files[0]
    assert (again.period, again.period_kind, again.period_source) == (
        "2010-11-07", "week_ending", "title",
    )  # fmt: skip


FILL_DOWN = textwrap.dedent(
    """\
    sources:
      - source_code: rtt
        fill_down: [year, region_code]
        files:
          - {path: a.xlsx}
          - {path: b.xlsx, fill_down: year}
          - {path: c.xlsx, fill_down: []}
      - source_code: plain
        path: d.csv
    """
)


def test_fill_down_per_source_and_per_file(tmp_path):
    from datawarp.pipeline.preflight import FileTask

    rtt, plain = parse_manifest(FILL_DOWN, base_dir=tmp_path).sources
    tasks = [FileTask(rtt, entry, None) for entry in rtt.files]
    assert [task.fill_down for task in tasks] == [["year", "region_code"], ["year"], []]
    assert FileTask(plain, plain.files[0], None).fill_down == []
    # What a load event keeps for `loads retry` fills the same columns.
    from datawarp.pipeline.manifest import SourceEntry

    for task in tasks:
        again = SourceEntry(**task.manifest_entry())
        assert FileTask(again, again.files[0], None).fill_down == task.fill_down


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            "fill_down: {year: 1}",
            "sources[0].fill_down: expected a list (lines starting with -), not {'year': 1}",
        ),
        ("fill_down: ['']", "sources[0].fill_down: a column name is empty"),
        ("fill_down: [1]", "sources[0].fill_down[0]: Input should be a valid string"),
    ],
)
def test_fill_down_problems_name_their_line(written, expected):
    text = f"sources:\n  - source_code: a\n    path: x.csv\n    {written}\n"
    assert _problems(text) == [f"m.yaml:4: {expected}"]
