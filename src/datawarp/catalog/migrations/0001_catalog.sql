-- 0001: the catalog schema, the data schemas and the seed's four tables.
-- Enumerations are CHECK constraints so hand-written SQL obeys the same rules as DataWarp.

CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS staging_test;
CREATE SCHEMA IF NOT EXISTS archive;

-- Who is acting: the database user, plus the OS user DataWarp passes in the session setting
-- datawarp.os_user (absent for psql and other clients, which is itself worth recording).
CREATE FUNCTION datawarp.current_actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT session_user::text
        || coalesce(' (os: ' || nullif(current_setting('datawarp.os_user', true), '') || ')', '')
$$;

CREATE TABLE datawarp.tbl_data_sources (
    source_code         text PRIMARY KEY,
    publication         text NOT NULL,
    domain              text NOT NULL,
    owner               text NOT NULL,
    purpose             text NOT NULL,
    retention_days      integer NOT NULL DEFAULT 365,
    load_mode           text NOT NULL DEFAULT 'APPEND',
    validation_required boolean NOT NULL DEFAULT true,
    status              text NOT NULL DEFAULT 'registered',
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL DEFAULT datawarp.current_actor(),
    last_validated_at   timestamptz,
    deprecation_reason  text,
    archived_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- tbl_<code>_archived_YYYYMMDD must fit PostgreSQL's 63-byte identifiers: 4 + 41 + 18.
    CONSTRAINT source_code_format CHECK (source_code ~ '^[a-z][a-z0-9_]*$'
                                         AND octet_length(source_code) <= 41),
    CONSTRAINT publication_present CHECK (btrim(publication) <> ''),
    CONSTRAINT domain_present CHECK (btrim(domain) <> ''),
    CONSTRAINT owner_is_email CHECK (owner ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    CONSTRAINT purpose_length CHECK (char_length(btrim(purpose)) BETWEEN 1 AND 500),
    CONSTRAINT retention_days_range CHECK (retention_days BETWEEN 1 AND 36500),
    CONSTRAINT load_mode_values CHECK (load_mode IN ('APPEND', 'REPLACE')),
    CONSTRAINT status_values CHECK (status IN ('registered', 'active', 'deprecated', 'archived')),
    CONSTRAINT archived_has_date CHECK (status <> 'archived' OR archived_at IS NOT NULL)
);
CREATE INDEX tbl_data_sources_status_idx ON datawarp.tbl_data_sources (status);
CREATE INDEX tbl_data_sources_domain_idx ON datawarp.tbl_data_sources (domain);

-- The lifecycle lives in the database so a hand-written UPDATE cannot skip it:
-- registered -> active -> deprecated -> archived, deprecated -> active; archived is final.
CREATE FUNCTION datawarp.allowed_status_transition(old_status text, new_status text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT old_status = new_status
        OR (old_status, new_status) IN (('registered', 'active'), ('active', 'deprecated'),
                                        ('deprecated', 'active'), ('deprecated', 'archived'))
$$;

CREATE FUNCTION datawarp.guard_data_source() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'registered' THEN
            RAISE EXCEPTION 'a new source must start with status registered, not %', NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        NEW.created_at := now();
        NEW.created_by := datawarp.current_actor();
        NEW.updated_at := NEW.created_at;
        RETURN NEW;
    END IF;
    IF NEW.source_code <> OLD.source_code THEN
        RAISE EXCEPTION 'source_code % cannot be renamed', OLD.source_code
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'created_at and created_by of source % are immutable', OLD.source_code
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT datawarp.allowed_status_transition(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'source %: status cannot change from % to %',
            OLD.source_code, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER guard_data_source
    BEFORE INSERT OR UPDATE ON datawarp.tbl_data_sources
    FOR EACH ROW EXECUTE FUNCTION datawarp.guard_data_source();

CREATE TABLE datawarp.tbl_load_events (
    load_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: --test loads of unregistered sources are recorded too.
    source_code      text NOT NULL,
    rows_loaded      bigint NOT NULL DEFAULT 0,
    columns_added    integer NOT NULL DEFAULT 0,
    load_status      text NOT NULL DEFAULT 'in_progress',
    started_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    error_message    text,
    period           text,
    source_file      text,
    sheet            text,
    file_sha256      text,
    file_bytes       bigint,
    target_schema    text NOT NULL DEFAULT 'staging',
    target_table     text,
    load_mode        text,
    interrupted      boolean NOT NULL DEFAULT false,
    loaded_by        text NOT NULL DEFAULT datawarp.current_actor(),
    CONSTRAINT load_status_values
        CHECK (load_status IN ('in_progress', 'completed', 'failed', 'rolled_back')),
    CONSTRAINT target_schema_values CHECK (target_schema IN ('staging', 'staging_test')),
    CONSTRAINT finished_has_time CHECK (load_status = 'in_progress' OR completed_at IS NOT NULL)
);
CREATE INDEX tbl_load_events_source_idx ON datawarp.tbl_load_events (source_code, started_at DESC);
CREATE INDEX tbl_load_events_in_progress_idx ON datawarp.tbl_load_events (load_id)
    WHERE load_status = 'in_progress';

CREATE TABLE datawarp.tbl_validation_results (
    validation_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    load_id          bigint REFERENCES datawarp.tbl_load_events (load_id),
    source_code      text NOT NULL,
    validation_type  text NOT NULL,
    check_name       text,
    status           text NOT NULL,
    message          text,
    details          jsonb,
    validated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT validation_type_values
        CHECK (validation_type IN ('row_count', 'schema', 'quality', 'metadata')),
    CONSTRAINT validation_status_values CHECK (status IN ('pass', 'warn', 'fail'))
);
CREATE INDEX tbl_validation_results_load_idx ON datawarp.tbl_validation_results (load_id);
CREATE INDEX tbl_validation_results_source_idx
    ON datawarp.tbl_validation_results (source_code, validated_at DESC);

CREATE TABLE datawarp.tbl_source_metrics (
    metric_id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_code            text NOT NULL,
    load_id                bigint REFERENCES datawarp.tbl_load_events (load_id),
    measured_at            timestamptz NOT NULL DEFAULT now(),
    row_count              bigint,
    column_count           integer,
    table_size_bytes       bigint,
    load_duration_seconds  numeric
);
CREATE INDEX tbl_source_metrics_source_idx
    ON datawarp.tbl_source_metrics (source_code, measured_at DESC);
