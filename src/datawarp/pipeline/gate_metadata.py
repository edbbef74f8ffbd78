"""The metadata checks: column descriptions and search terms, told once rather than every load.

A source loaded without descriptions is warned at its first validated load; later loads warn
again only when coverage drops (fewer described, or new columns without a description: a
schema change) or the search terms are gone. Otherwise the coverage is reported as it is,
status ``pass``, with the load it is compared with. A source whose ``descriptions`` or
``search_terms`` severity is ``fail`` has made them a requirement: every load short of it fails.
"""

from __future__ import annotations

from datawarp.catalog.gate_queries import MetadataCoverage, PreviousMetadata
from datawarp.core.checks import METADATA, CheckResult
from datawarp.core.gate_settings import GateSettings
from datawarp.core.vocabulary import CheckStatus

PASS = CheckStatus.PASS


def metadata_checks(
    coverage: MetadataCoverage,
    total: int,
    settings: GateSettings,
    previous: PreviousMetadata | None = None,
) -> list[CheckResult]:
    """``previous``: what the source's latest earlier load was told (None: never told)."""
    results = [descriptions_check(coverage.described, total, settings, previous)]
    if not coverage.has_search_terms:
        results.append(search_terms_check(settings, previous))
    return results


def _percent(described: int, total: int) -> float:
    return described / total * 100 if total else 100.0


def descriptions_check(
    described: int, total: int, settings: GateSettings, previous: PreviousMetadata | None
) -> CheckResult:
    percent = _percent(described, total)
    details = {"described": described, "columns": total, "percent": round(percent, 1)}
    text = f"{described}/{total} columns have descriptions ({percent:.0f}%"
    if percent >= settings.min_description_percent:
        return CheckResult(METADATA, "descriptions", PASS, text + ")", details)
    severity = CheckStatus(settings.severity_of("descriptions"))
    if previous is None:
        return CheckResult(METADATA, "descriptions", severity, text + ")", details)
    before = _percent(previous.described, previous.columns)
    details |= {"previous_load_id": previous.load_id, "previous_percent": round(before, 1)}
    # compared as fractions, so 1/3 then 2/6 is no drop
    if described * previous.columns < previous.described * total:
        note = f", down from {before:.0f}% at load {previous.load_id})"
        return CheckResult(METADATA, "descriptions", severity, text + note, details)
    status = severity if severity == CheckStatus.FAIL else PASS
    if described * previous.columns == previous.described * total:
        note = f", as at load {previous.load_id})"
    else:
        note = f", up from {before:.0f}% at load {previous.load_id})"
    return CheckResult(METADATA, "descriptions", status, text + note, details)


def search_terms_check(settings: GateSettings, previous: PreviousMetadata | None) -> CheckResult:
    """Reported only when the source has none."""
    severity = CheckStatus(settings.severity_of("search_terms"))
    text = "no search terms for this source"
    if previous is None:
        return CheckResult(METADATA, "search_terms", severity, text, {})
    details = {"previous_load_id": previous.load_id}
    if previous.had_search_terms:
        note = f" (load {previous.load_id} had some)"
        return CheckResult(METADATA, "search_terms", severity, text + note, details)
    status = severity if severity == CheckStatus.FAIL else PASS
    return CheckResult(METADATA, "search_terms", status, f"{text} (as at load {previous.load_id})",
                       details)  # fmt: skip
