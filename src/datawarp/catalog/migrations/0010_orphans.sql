-- 0010: hygiene of the data schemas. Orphans (staging tables no source owns) and ghosts
-- (sources whose table is gone), the memory of which orphans the DBA was already told about,
-- and the two questions the lifecycle asks the catalog: when does a period end, and has a
-- table been read lately.

-- An orphan is announced once: a row here means the DBA was told. Keyed by the table's oid
-- too, so a table dropped and created again under the same name is announced again.
CREATE TABLE datawarp.tbl_orphans_seen (
    schema_name      text NOT NULL,
    table_name       text NOT NULL,
    table_oid        oid NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, table_name, table_oid)
);

-- The last day of a period (see datawarp.period_start).
CREATE FUNCTION datawarp.period_end(period text, kind text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (datawarp.period_start(period, kind) + CASE kind
        WHEN 'day' THEN interval '1 day'
        WHEN 'week' THEN interval '7 days'
        WHEN 'month' THEN interval '1 month'
        WHEN 'quarter' THEN interval '3 months'
        WHEN 'fiscal_quarter' THEN interval '3 months'
        WHEN 'year' THEN interval '1 year'
        WHEN 'fiscal_year' THEN interval '1 year'
    END - interval '1 day')::date
$$;

CREATE FUNCTION datawarp.count_rows(rel regclass) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    found bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', rel) INTO found;  -- regclass prints quoted
    RETURN found;
END
$$;

-- Staging tables no registered (non-archived) source owns, with what the DDL log knows of
-- their creation (the latest CREATE of that name, else the first DDL seen on it: a rename) and
-- what the catalog remembers of the name: loads into it, sources that owned it.
CREATE FUNCTION datawarp.orphan_tables()
RETURNS TABLE (schema_name text, table_name text, table_oid oid, created_at timestamptz,
               created_by text, application_name text, total_bytes bigint, row_count bigint,
               loads jsonb, owners jsonb)
LANGUAGE sql STABLE AS $$
    SELECT n.nspname::text, c.relname::text, c.oid, d.occurred_at, d.session_user_name,
           d.application_name, pg_total_relation_size(c.oid),
           -- The planner's estimate, else (never analysed) a count: few orphans, worth it.
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint
                ELSE datawarp.count_rows(c.oid::regclass) END,
           (SELECT coalesce(jsonb_agg(l ORDER BY l.last_load DESC), '[]')
              FROM (SELECT e.source_code, e.target_schema, count(*) AS loads,
                           max(e.started_at) AS last_load
                      FROM datawarp.tbl_load_events e WHERE e.target_table = c.relname
                     GROUP BY 1, 2) l),
           (SELECT coalesce(jsonb_agg(jsonb_build_object('source_code', s.source_code,
                                                         'status', s.status,
                                                         'archived_at', s.archived_at)), '[]')
              FROM datawarp.tbl_data_sources s WHERE 'tbl_' || s.source_code = c.relname)
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN LATERAL (
          SELECT e.occurred_at, e.session_user_name, e.application_name
            FROM datawarp.tbl_ddl_events e
           WHERE e.object_identity = format('%I.%I', n.nspname, c.relname)
             AND e.occurred_at >= coalesce(
                 (SELECT max(x.occurred_at) FROM datawarp.tbl_ddl_events x
                   WHERE x.object_identity = e.object_identity AND x.command_tag = 'DROP TABLE'),
                 '-infinity')
           ORDER BY e.command_tag NOT IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO'),
                    e.occurred_at DESC
           LIMIT 1
      ) d ON true
     WHERE n.nspname = 'staging' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM datawarp.tbl_data_sources s
                        WHERE 'tbl_' || s.source_code = c.relname AND s.status <> 'archived')
     ORDER BY 2
$$;

-- Whether the event triggers of 0009 are there: without them creation times are unknown.
CREATE FUNCTION datawarp.ddl_log_installed() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_event_trigger
                    WHERE evtname = 'datawarp_ddl_log' AND evtenabled <> 'D')
$$;

-- Active and deprecated sources whose staging table is gone, and the drop the log saw.
CREATE FUNCTION datawarp.ghost_sources()
RETURNS TABLE (source_code text, status text, owner text, table_name text,
               dropped_at timestamptz, dropped_by text)
LANGUAGE sql STABLE AS $$
    SELECT s.source_code, s.status, s.owner, 'staging.tbl_' || s.source_code,
           d.occurred_at, d.session_user_name
      FROM datawarp.tbl_data_sources s
      LEFT JOIN LATERAL (
          SELECT e.occurred_at, e.session_user_name FROM datawarp.tbl_ddl_events e
           WHERE e.object_identity = format('%I.%I', 'staging', 'tbl_' || s.source_code)
             AND e.command_tag = 'DROP TABLE'
           ORDER BY e.occurred_at DESC LIMIT 1
      ) d ON true
     WHERE s.status IN ('active', 'deprecated')
       AND to_regclass(format('%I.%I', 'staging', 'tbl_' || s.source_code)) IS NULL
     ORDER BY 1
$$;

-- Reads of each sampled table in the window (as_of - days, as_of]: the growth of scans and
-- tuples read between consecutive samples (after a statistics reset a counter restarts from
-- zero, so a fall counts the new value; a table's first sample counts nothing). covered: a sample at or before the window's start
-- exists, so "no reads" is known rather than merely not yet observed.
CREATE FUNCTION datawarp.table_reads(as_of timestamptz, days integer)
RETURNS TABLE (schema_name text, table_name text, covered boolean, scans numeric,
               tuples_read numeric, first_sampled_at timestamptz, last_sampled_at timestamptz)
LANGUAGE sql STABLE AS $$
    WITH samples AS (
        SELECT u.*, lag(u.seq_scan + u.idx_scan) OVER w AS prev_scans,
               lag(u.tuples_read) OVER w AS prev_tuples
          FROM datawarp.tbl_table_usage u
         WHERE u.sampled_at <= as_of
        WINDOW w AS (PARTITION BY u.schema_name, u.table_name ORDER BY u.sampled_at)
    )
    SELECT schema_name, table_name,
           min(sampled_at) <= as_of - make_interval(days => days),
           coalesce(sum(CASE WHEN prev_scans IS NULL THEN 0
                             WHEN seq_scan + idx_scan >= prev_scans
                             THEN seq_scan + idx_scan - prev_scans ELSE seq_scan + idx_scan END)
                    FILTER (WHERE sampled_at > as_of - make_interval(days => days)), 0),
           coalesce(sum(CASE WHEN prev_tuples IS NULL THEN 0
                             WHEN tuples_read >= prev_tuples
                             THEN tuples_read - prev_tuples ELSE tuples_read END)
                    FILTER (WHERE sampled_at > as_of - make_interval(days => days)), 0),
           min(sampled_at), max(sampled_at)
      FROM samples GROUP BY 1, 2 ORDER BY 1, 2
$$;
