-- 0017: loading the same data twice, and weekly periods.
--
-- A load records where its period came from: the manifest, the file's title block
-- ("Period: ..."), the file name, or `period: none` in the manifest (the file has no period);
-- NULL when no period was found. It also records the rows it replaced: the period's rows under
-- REPLACE, the rows of earlier loads of the same file and period under `--force` with APPEND.
ALTER TABLE datawarp.tbl_load_events
    ADD COLUMN period_source text,
    ADD COLUMN rows_replaced bigint,
    ADD CONSTRAINT period_source_values
        CHECK (period_source IN ('manifest', 'title', 'file_name', 'none'));
COMMENT ON COLUMN datawarp.tbl_load_events.period_source IS
    'Where the period came from: manifest, title (the title block), file_name, none (period: none)';
COMMENT ON COLUMN datawarp.tbl_load_events.rows_replaced IS
    'Rows the load deleted before adding its own: REPLACE''s period, or a forced reload''s earlier copy';

-- Until now every period came from the manifest. Load history is immutable; recording that is
-- the one exception, made here by the catalog's owner (as 0012 did).
ALTER TABLE datawarp.tbl_load_events DISABLE TRIGGER load_events_finish_once;
UPDATE datawarp.tbl_load_events SET period_source = 'manifest' WHERE period IS NOT NULL;
ALTER TABLE datawarp.tbl_load_events ENABLE TRIGGER load_events_finish_once;

-- A week named by the day it ends ('2023-10-01', kind week_ending) covers that day and the six
-- before it, whatever weekday the publisher ends its weeks on.
CREATE OR REPLACE FUNCTION datawarp.period_start(period text, kind text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'month' THEN to_date(period || '-01', 'YYYY-MM-DD')
        WHEN 'day' THEN to_date(period, 'YYYY-MM-DD')
        WHEN 'week_ending' THEN to_date(period, 'YYYY-MM-DD') - 6
        WHEN 'year' THEN to_date(period || '-01-01', 'YYYY-MM-DD')
        WHEN 'quarter' THEN make_date(left(period, 4)::int, right(period, 1)::int * 3 - 2, 1)
        WHEN 'fiscal_year' THEN make_date(left(period, 4)::int, 4, 1)
        WHEN 'fiscal_quarter' THEN
            (make_date(left(period, 4)::int, 4, 1) + (right(period, 1)::int - 1) * interval '3 months')::date
        WHEN 'week' THEN to_date(period, 'IYYY-"W"IW')
    END
$$;

CREATE OR REPLACE FUNCTION datawarp.period_end(period text, kind text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (datawarp.period_start(period, kind) + CASE kind
        WHEN 'day' THEN interval '1 day'
        WHEN 'week' THEN interval '7 days'
        WHEN 'week_ending' THEN interval '7 days'
        WHEN 'month' THEN interval '1 month'
        WHEN 'quarter' THEN interval '3 months'
        WHEN 'fiscal_quarter' THEN interval '3 months'
        WHEN 'year' THEN interval '1 year'
        WHEN 'fiscal_year' THEN interval '1 year'
    END - interval '1 day')::date
$$;

CREATE OR REPLACE FUNCTION datawarp.period_label(start date, kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'month' THEN to_char(start, 'YYYY-MM')
        WHEN 'day' THEN to_char(start, 'YYYY-MM-DD')
        WHEN 'week_ending' THEN to_char(start + 6, 'YYYY-MM-DD')
        WHEN 'year' THEN to_char(start, 'YYYY')
        WHEN 'quarter' THEN to_char(start, 'YYYY') || '-Q' || extract(quarter FROM start)
        WHEN 'fiscal_year' THEN to_char(start, 'YYYY') || '-' || to_char(start + interval '1 year', 'YY')
        WHEN 'fiscal_quarter' THEN
            to_char(start - interval '3 months', 'YYYY') || '-'
            || to_char(start + interval '9 months', 'YY') || '-Q'
            || extract(quarter FROM start - interval '3 months')
        WHEN 'week' THEN to_char(start, 'IYYY-"W"IW')
    END
$$;

-- The freshness dashboard as in 0007; a source with one week-ending period is weekly too.
CREATE OR REPLACE FUNCTION datawarp.freshness(as_of timestamptz, default_stale_days integer,
                                   grace_days integer)
RETURNS TABLE (source_code text, publication text, status text, owner text,
               last_loaded_at timestamptz, days_since_load numeric, stale_after_days integer,
               stale boolean, cadence text, last_period text, next_period text,
               next_expected_by date, overdue boolean)
LANGUAGE sql STABLE AS $$
    WITH recent AS (
        SELECT s.source_code, p.period_kind, p.period_start, p.first_loaded_at,
               row_number() OVER (PARTITION BY s.source_code ORDER BY p.period_start DESC) AS n
          FROM datawarp.tbl_data_sources s
          JOIN LATERAL (
              SELECT * FROM datawarp.tbl_source_periods sp
               WHERE sp.source_code = s.source_code AND sp.first_loaded_at <= as_of
                 AND sp.period_kind = (SELECT k.period_kind FROM datawarp.tbl_source_periods k
                                        WHERE k.source_code = s.source_code
                                          AND k.first_loaded_at <= as_of
                                        ORDER BY k.first_loaded_at DESC LIMIT 1)
               ORDER BY sp.period_start DESC LIMIT 7
          ) p ON true
    ), gaps AS (
        SELECT source_code,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS median_gap
          FROM (SELECT source_code,
                       lag(period_start) OVER (PARTITION BY source_code ORDER BY period_start DESC)
                       - period_start AS gap
                  FROM recent) g
         WHERE gap IS NOT NULL GROUP BY source_code
    ), profile AS (
        SELECT r.source_code, r.period_kind,
               max(r.period_start) AS last_start,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY (r.first_loaded_at AT TIME ZONE 'UTC')::date - r.period_start) AS lag_days
          FROM recent r GROUP BY r.source_code, r.period_kind
    ), cadence AS (
        SELECT p.*,
               CASE
                   WHEN g.median_gap BETWEEN 5 AND 9 OR (g.median_gap IS NULL AND p.period_kind IN ('week', 'week_ending')) THEN 'weekly'
                   WHEN g.median_gap BETWEEN 25 AND 35 OR (g.median_gap IS NULL AND p.period_kind = 'month') THEN 'monthly'
                   WHEN g.median_gap BETWEEN 85 AND 95 OR (g.median_gap IS NULL AND p.period_kind IN ('quarter', 'fiscal_quarter')) THEN 'quarterly'
                   WHEN g.median_gap BETWEEN 355 AND 375 OR (g.median_gap IS NULL AND p.period_kind IN ('year', 'fiscal_year')) THEN 'annual'
                   WHEN g.median_gap BETWEEN 0.5 AND 1.5 THEN 'daily'
                   WHEN g.median_gap IS NOT NULL THEN 'irregular'
               END AS cadence
          FROM profile p LEFT JOIN gaps g USING (source_code)
    ), next AS (
        SELECT c.*,
               (c.last_start + CASE c.cadence WHEN 'weekly' THEN interval '7 days'
                                              WHEN 'monthly' THEN interval '1 month'
                                              WHEN 'quarterly' THEN interval '3 months'
                                              WHEN 'annual' THEN interval '1 year'
                                              WHEN 'daily' THEN interval '1 day' END)::date AS next_start
          FROM cadence c
    )
    SELECT s.source_code, s.publication, s.status, s.owner, last.completed_at,
           round(extract(epoch FROM as_of - last.completed_at) / 86400, 1),
           coalesce(s.stale_after_days, default_stale_days),
           s.status = 'active' AND (last.completed_at IS NULL
               OR last.completed_at < as_of - make_interval(days => coalesce(s.stale_after_days, default_stale_days))),
           n.cadence,
           datawarp.period_label(n.last_start, n.period_kind),
           datawarp.period_label(n.next_start, n.period_kind),
           (n.next_start + ceil(n.lag_days)::int + grace_days),
           s.status = 'active' AND n.next_start IS NOT NULL
               AND (as_of AT TIME ZONE 'UTC')::date > n.next_start + ceil(n.lag_days)::int + grace_days
      FROM datawarp.tbl_data_sources s
      LEFT JOIN LATERAL (
          SELECT e.completed_at FROM datawarp.tbl_load_events e
           WHERE e.source_code = s.source_code AND e.load_status = 'completed'
             AND e.target_schema = 'staging' AND e.completed_at <= as_of
           ORDER BY e.completed_at DESC LIMIT 1
      ) last ON true
      LEFT JOIN next n ON n.source_code = s.source_code
     WHERE s.status IN ('registered', 'active', 'deprecated')
     ORDER BY 8 DESC, 13 DESC, 6 DESC NULLS FIRST, 1
$$;
