-- 0007: the four dashboards as SQL functions (as_of: the moment to judge by; days: the
-- window) and views over them with now() and the default windows. Only loads into `staging`
-- count: test loads are experiments, not the warehouse's health.

-- The canonical text of the period starting on a date (the inverse of period_start).
CREATE FUNCTION datawarp.period_label(start date, kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'month' THEN to_char(start, 'YYYY-MM')
        WHEN 'day' THEN to_char(start, 'YYYY-MM-DD')
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

-- Dashboard 1: load health -------------------------------------------------------------

CREATE FUNCTION datawarp.load_health_daily(as_of timestamptz, days integer)
RETURNS TABLE (day date, loads bigint, completed bigint, failed bigint, rolled_back bigint,
               success_rate numeric)
LANGUAGE sql STABLE AS $$
    WITH finished AS (
        SELECT (started_at AT TIME ZONE 'UTC')::date AS day, load_status
          FROM datawarp.tbl_load_events
         WHERE started_at > as_of - make_interval(days => days) AND started_at <= as_of
           AND target_schema = 'staging' AND load_status <> 'in_progress'
    )
    SELECT d::date,
           count(f.load_status),
           count(*) FILTER (WHERE f.load_status = 'completed'),
           count(*) FILTER (WHERE f.load_status = 'failed'),
           count(*) FILTER (WHERE f.load_status = 'rolled_back'),
           round(100.0 * count(*) FILTER (WHERE f.load_status = 'completed')
                 / nullif(count(f.load_status), 0), 1)
      FROM generate_series((as_of AT TIME ZONE 'UTC')::date - (days - 1),
                           (as_of AT TIME ZONE 'UTC')::date, interval '1 day') d
      LEFT JOIN finished f ON f.day = d::date
     GROUP BY d ORDER BY d
$$;

CREATE FUNCTION datawarp.load_health_by_source(as_of timestamptz, days integer)
RETURNS TABLE (source_code text, loads bigint, completed bigint, failed bigint,
               success_rate numeric, avg_seconds numeric, p95_seconds numeric,
               loads_per_week numeric, last_load_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT e.source_code,
           count(*),
           count(*) FILTER (WHERE e.load_status = 'completed'),
           count(*) FILTER (WHERE e.load_status IN ('failed', 'rolled_back')),
           round(100.0 * count(*) FILTER (WHERE e.load_status = 'completed') / count(*), 1),
           round(avg(e.duration_seconds) FILTER (WHERE e.load_status = 'completed'), 2),
           round((percentile_cont(0.95) WITHIN GROUP (ORDER BY e.duration_seconds)
                  FILTER (WHERE e.load_status = 'completed'))::numeric, 2),
           round(count(*) * 7.0 / days, 2),
           max(e.started_at)
      FROM datawarp.tbl_load_events e
     WHERE e.started_at > as_of - make_interval(days => days) AND e.started_at <= as_of
       AND e.target_schema = 'staging' AND e.load_status <> 'in_progress'
     GROUP BY e.source_code
     ORDER BY 6 DESC NULLS LAST, 1
$$;

CREATE FUNCTION datawarp.failed_loads(as_of timestamptz, days integer)
RETURNS TABLE (load_id bigint, source_code text, load_status text, started_at timestamptz,
               source_file text, period text, interrupted boolean, error_message text)
LANGUAGE sql STABLE AS $$
    SELECT load_id, source_code, load_status, started_at, source_file, period, interrupted,
           error_message
      FROM datawarp.tbl_load_events
     WHERE started_at > as_of - make_interval(days => days) AND started_at <= as_of
       AND target_schema = 'staging' AND load_status IN ('failed', 'rolled_back')
     ORDER BY started_at DESC
$$;

CREATE VIEW datawarp.v_load_health_daily AS SELECT * FROM datawarp.load_health_daily(now(), 7);
CREATE VIEW datawarp.v_load_health_by_source AS
    SELECT * FROM datawarp.load_health_by_source(now(), 30);
CREATE VIEW datawarp.v_failed_loads AS SELECT * FROM datawarp.failed_loads(now(), 7);

-- Dashboard 2: freshness ---------------------------------------------------------------
-- The cadence is the median gap between a source's last periods (of its latest kind of
-- period); the typical lag is the median time from a period's start to its first load.
-- The next edition is expected by: next period start + typical lag + grace.

CREATE FUNCTION datawarp.freshness(as_of timestamptz, default_stale_days integer,
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
                   WHEN g.median_gap BETWEEN 5 AND 9 OR (g.median_gap IS NULL AND p.period_kind = 'week') THEN 'weekly'
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

CREATE VIEW datawarp.v_freshness AS SELECT * FROM datawarp.freshness(now(), 30, 7);

-- Dashboard 3: storage and growth ------------------------------------------------------

CREATE FUNCTION datawarp.table_sizes()
RETURNS TABLE (schema_name text, table_name text, source_code text, domain text,
               total_bytes bigint, rows_estimate bigint)
LANGUAGE sql STABLE AS $$
    SELECT n.nspname::text, c.relname::text, s.source_code, s.domain,
           pg_total_relation_size(c.oid), greatest(c.reltuples, 0)::bigint
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN datawarp.tbl_data_sources s
        ON n.nspname IN ('staging', 'staging_test') AND c.relname = 'tbl_' || s.source_code
     WHERE n.nspname IN ('staging', 'staging_test', 'archive') AND c.relkind IN ('r', 'p')
     ORDER BY 5 DESC, 1, 2
$$;

CREATE FUNCTION datawarp.row_growth(as_of timestamptz, days integer)
RETURNS TABLE (source_code text, rows_now bigint, rows_before bigint, growth_rows bigint,
               growth_percent numeric, weekly_growth_percent numeric)
LANGUAGE sql STABLE AS $$
    SELECT s.source_code, now_m.row_count, before_m.row_count,
           now_m.row_count - coalesce(before_m.row_count, 0),
           round(100.0 * (now_m.row_count - before_m.row_count) / nullif(before_m.row_count, 0), 1),
           round(100.0 * (now_m.row_count - before_m.row_count) / nullif(before_m.row_count, 0)
                 * 7 / days, 1)
      FROM datawarp.tbl_data_sources s
      JOIN LATERAL (
          SELECT m.row_count FROM datawarp.tbl_source_metrics m
           WHERE m.source_code = s.source_code AND m.measured_at <= as_of
           ORDER BY m.measured_at DESC LIMIT 1
      ) now_m ON true
      LEFT JOIN LATERAL (
          SELECT m.row_count FROM datawarp.tbl_source_metrics m
           WHERE m.source_code = s.source_code
             AND m.measured_at <= as_of - make_interval(days => days)
           ORDER BY m.measured_at DESC LIMIT 1
      ) before_m ON true
     ORDER BY 6 DESC NULLS LAST, 4 DESC, 1
$$;

CREATE VIEW datawarp.v_table_sizes AS SELECT * FROM datawarp.table_sizes() LIMIT 20;
CREATE VIEW datawarp.v_storage_by_domain AS
    SELECT coalesce(domain, '(no registered source)') AS domain, count(*) AS tables,
           sum(total_bytes)::bigint AS total_bytes
      FROM datawarp.table_sizes() GROUP BY 1 ORDER BY 3 DESC;
CREATE VIEW datawarp.v_storage_by_schema AS
    SELECT schema_name, count(*) AS tables, sum(total_bytes)::bigint AS total_bytes
      FROM datawarp.table_sizes() GROUP BY 1 ORDER BY 1;
CREATE VIEW datawarp.v_row_growth AS SELECT * FROM datawarp.row_growth(now(), 7);

-- Dashboard 4: schema evolution --------------------------------------------------------

CREATE FUNCTION datawarp.schema_evolution(as_of timestamptz, days integer, high_drift integer)
RETURNS TABLE (source_code text, tables_created bigint, columns_added bigint,
               columns_widened bigint, changes bigint, pending_reviews bigint,
               high_drift boolean)
LANGUAGE sql STABLE AS $$
    SELECT c.source_code,
           count(*) FILTER (WHERE c.kind = 'create'),
           coalesce(sum(jsonb_array_length(c.columns)) FILTER (WHERE c.kind = 'add'
                                                                AND c.status <> 'rejected'), 0),
           coalesce(sum(jsonb_array_length(c.columns)) FILTER (WHERE c.kind = 'widen'), 0),
           count(*) FILTER (WHERE c.kind <> 'create'),
           count(*) FILTER (WHERE c.status = 'pending'),
           count(*) FILTER (WHERE c.kind <> 'create') > high_drift
      FROM datawarp.tbl_schema_changes c
     WHERE c.requested_at > as_of - make_interval(days => days) AND c.requested_at <= as_of
       AND c.target_schema = 'staging'
     GROUP BY c.source_code
     ORDER BY 5 DESC, 1
$$;

CREATE FUNCTION datawarp.pending_reviews(as_of timestamptz)
RETURNS TABLE (change_id bigint, source_code text, target_table text, columns integer,
               requested_at timestamptz, age_days numeric)
LANGUAGE sql STABLE AS $$
    SELECT change_id, source_code, target_schema || '.' || target_table,
           jsonb_array_length(columns), requested_at,
           round(extract(epoch FROM as_of - requested_at) / 86400, 1)
      FROM datawarp.tbl_schema_changes
     WHERE status = 'pending' AND requested_at <= as_of
     ORDER BY requested_at
$$;

CREATE VIEW datawarp.v_schema_evolution AS SELECT * FROM datawarp.schema_evolution(now(), 30, 5);
CREATE VIEW datawarp.v_pending_reviews AS SELECT * FROM datawarp.pending_reviews(now());
