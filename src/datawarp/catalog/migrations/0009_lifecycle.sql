-- 0009: the lifecycle and hygiene of the warehouse: deprecation dates, verified Parquet
-- archives, the DDL log that dates every table (PostgreSQL keeps no creation time), usage
-- samples that outlive a statistics reset, and the record of maintenance runs.

ALTER TABLE datawarp.tbl_data_sources
    ADD COLUMN deprecated_at timestamptz,
    ADD COLUMN archive_after date;

-- Where a load came from, so `datawarp loads retry` can load the same file the same way:
-- the manifest's path and its entry for this source, narrowed to this one file.
ALTER TABLE datawarp.tbl_load_events
    ADD COLUMN manifest_path text,
    ADD COLUMN manifest_entry jsonb;

-- Every verified Parquet export: a whole source (archive), one period past its retention,
-- an orphaned table, or old load history kept for compliance.
CREATE TABLE datawarp.tbl_archives (
    archive_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind              text NOT NULL,
    source_code       text,
    source_table      text NOT NULL,
    archive_table     text,
    period            text,
    path              text NOT NULL,
    file_bytes        bigint NOT NULL,
    row_count         bigint NOT NULL,
    file_sha256       text NOT NULL,
    content_checksum  text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL DEFAULT datawarp.current_actor(),
    table_dropped_at  timestamptz,
    CONSTRAINT archive_kind_values CHECK (kind IN ('archive', 'retention', 'orphan', 'load_events'))
);
CREATE INDEX tbl_archives_source_idx ON datawarp.tbl_archives (source_code, created_at);

-- DDL in the data schemas, recorded by an event trigger for every client (psql included).
CREATE TABLE datawarp.tbl_ddl_events (
    ddl_event_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    command_tag       text NOT NULL,
    object_type       text,
    schema_name       text,
    object_identity   text,
    session_user_name text NOT NULL DEFAULT session_user,
    application_name  text DEFAULT current_setting('application_name', true)
);
CREATE INDEX tbl_ddl_events_object_idx ON datawarp.tbl_ddl_events (object_identity, occurred_at);

CREATE FUNCTION datawarp.record_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT * FROM pg_event_trigger_ddl_commands()
                 WHERE schema_name IN ('staging', 'staging_test', 'archive')
    LOOP
        INSERT INTO datawarp.tbl_ddl_events (command_tag, object_type, schema_name, object_identity)
        VALUES (item.command_tag, item.object_type, item.schema_name, item.object_identity);
    END LOOP;
END
$$;

CREATE FUNCTION datawarp.record_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT * FROM pg_event_trigger_dropped_objects()
                 WHERE schema_name IN ('staging', 'staging_test', 'archive')
                   AND object_type IN ('table', 'view', 'materialized view')
    LOOP
        INSERT INTO datawarp.tbl_ddl_events (command_tag, object_type, schema_name, object_identity)
        VALUES (tg_tag, item.object_type, item.schema_name, item.object_identity);
    END LOOP;
END
$$;

-- Event triggers need a superuser; a catalog migrated by another role goes without the DDL
-- log (orphans are still found, only their creation time and creator are then unknown).
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE EVENT TRIGGER datawarp_ddl_log ON ddl_command_end
            EXECUTE FUNCTION datawarp.record_ddl();
        CREATE EVENT TRIGGER datawarp_drop_log ON sql_drop
            EXECUTE FUNCTION datawarp.record_drop();
    ELSE
        RAISE NOTICE 'not a superuser: the DDL log of the data schemas is not installed';
    END IF;
END
$$;

-- pg_stat_user_tables sampled by the weekly maintenance, so "no queries in 90 days" survives
-- a statistics reset or a restart.
CREATE TABLE datawarp.tbl_table_usage (
    sampled_at     timestamptz NOT NULL DEFAULT now(),
    schema_name    text NOT NULL,
    table_name     text NOT NULL,
    seq_scan       bigint NOT NULL,
    idx_scan       bigint NOT NULL,
    tuples_read    bigint NOT NULL,
    PRIMARY KEY (schema_name, table_name, sampled_at)
);

CREATE TABLE datawarp.tbl_maintenance_runs (
    run_step_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        bigint NOT NULL,
    schedule      text NOT NULL,
    step          text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz,
    outcome       text NOT NULL DEFAULT 'running',
    dry_run       boolean NOT NULL DEFAULT false,
    details       jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT maintenance_schedule_values CHECK (schedule IN ('weekly', 'monthly', 'quarterly')),
    CONSTRAINT maintenance_outcome_values
        CHECK (outcome IN ('running', 'ok', 'warning', 'failed', 'skipped'))
);
CREATE SEQUENCE datawarp.maintenance_run_seq;
CREATE INDEX tbl_maintenance_runs_run_idx ON datawarp.tbl_maintenance_runs (run_id, run_step_id);
