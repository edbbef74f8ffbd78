-- 0008: indexes for the dashboards and the scorecard at scale (bench/bench_dashboards.py:
-- a million load events over 500 sources and two years). Indexes only: every dashboard
-- function keeps its definition and its results.

-- freshness(): for each source, the kind of its latest period, then its last seven periods
-- of that kind. Without these, each source's periods were gathered from all over the table
-- and sorted; now they are read in order and the reading stops after seven.
CREATE INDEX tbl_source_periods_latest_idx
    ON datawarp.tbl_source_periods (source_code, first_loaded_at DESC) INCLUDE (period_kind);
CREATE INDEX tbl_source_periods_recent_idx
    ON datawarp.tbl_source_periods (source_code, period_kind, period_start DESC);

-- The scorecard's duplicate check looks up each recent completed load's file by its SHA-256
-- (and only earlier loads, hence load_id): one probe instead of a scan of the whole history.
-- The loader's "already loaded?" check finds the file the same way.
CREATE INDEX tbl_load_events_file_idx
    ON datawarp.tbl_load_events (file_sha256, load_id) WHERE load_status = 'completed';

-- Failed and rolled-back loads are a few percent of the history: failed_loads() and the
-- scorecard's time-to-recovery read them without reading the window's successes.
CREATE INDEX tbl_load_events_failed_idx
    ON datawarp.tbl_load_events (started_at) WHERE load_status IN ('failed', 'rolled_back');
