-- 0002: the immutable audit trail and immutable load history.
-- Triggers record changes made by any client (psql included), not only by DataWarp.

CREATE TABLE datawarp.tbl_audit_log (
    audit_id            bigint PRIMARY KEY,
    table_name          text NOT NULL,
    record_key          text,
    action              text NOT NULL,
    changed_by_db_user  text NOT NULL,
    changed_by_os_user  text,
    client_application  text,
    client_addr         inet,
    transaction_id      bigint NOT NULL,
    changed_at          timestamptz NOT NULL,
    old_values          jsonb,
    new_values          jsonb,
    prev_hash           text NOT NULL,
    row_hash            text NOT NULL,
    CONSTRAINT audit_action_values CHECK (action IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE SEQUENCE datawarp.tbl_audit_log_audit_id_seq OWNED BY datawarp.tbl_audit_log.audit_id;
CREATE INDEX tbl_audit_log_record_idx ON datawarp.tbl_audit_log (table_name, record_key, audit_id);

-- The hash covers every field of the row and the previous row's hash, serialised as a JSON
-- array (unambiguous for NULLs and separators) with the time as epoch seconds (independent of
-- the session's TimeZone). `datawarp audit verify` recomputes it with this same function.
CREATE FUNCTION datawarp.audit_row_hash(
    prev_hash text, audit_id bigint, table_name text, record_key text, action text,
    db_user text, os_user text, application text, addr inet, transaction_id bigint,
    changed_at timestamptz, old_values jsonb, new_values jsonb
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        prev_hash, audit_id, table_name, record_key, action, db_user, os_user, application,
        host(addr), transaction_id, extract(epoch FROM changed_at), old_values, new_values
    )::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION datawarp.record_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
DECLARE
    key_column  text := TG_ARGV[0];
    old_json    jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_json    jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    entry       datawarp.tbl_audit_log%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND old_json = new_json THEN
        RETURN NULL;
    END IF;
    -- One writer at a time extends the chain; held to commit so the next writer sees our row.
    PERFORM pg_advisory_xact_lock(7318201450001);
    SELECT a.row_hash INTO entry.prev_hash
      FROM datawarp.tbl_audit_log a ORDER BY a.audit_id DESC LIMIT 1;
    entry.prev_hash := coalesce(entry.prev_hash, repeat('0', 64));
    entry.audit_id := nextval('datawarp.tbl_audit_log_audit_id_seq');
    entry.table_name := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    entry.record_key := coalesce(new_json, old_json) ->> key_column;
    entry.action := TG_OP;
    entry.changed_by_db_user := session_user;
    entry.changed_by_os_user := nullif(current_setting('datawarp.os_user', true), '');
    entry.client_application := nullif(current_setting('application_name', true), '');
    entry.client_addr := inet_client_addr();
    entry.transaction_id := txid_current();
    entry.changed_at := clock_timestamp();
    entry.old_values := old_json;
    entry.new_values := new_json;
    entry.row_hash := datawarp.audit_row_hash(
        entry.prev_hash, entry.audit_id, entry.table_name, entry.record_key, entry.action,
        entry.changed_by_db_user, entry.changed_by_os_user, entry.client_application,
        entry.client_addr, entry.transaction_id, entry.changed_at, entry.old_values,
        entry.new_values);
    INSERT INTO datawarp.tbl_audit_log VALUES (entry.*);
    RETURN NULL;
END
$$;

CREATE TRIGGER audit_data_source
    AFTER INSERT OR UPDATE OR DELETE ON datawarp.tbl_data_sources
    FOR EACH ROW EXECUTE FUNCTION datawarp.record_audit('source_code');

CREATE FUNCTION datawarp.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON datawarp.tbl_audit_log
    FOR EACH ROW EXECUTE FUNCTION datawarp.refuse_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON datawarp.tbl_audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION datawarp.refuse_change();

-- Load history: an event may be finished once (in_progress -> a final status); nothing else.
CREATE FUNCTION datawarp.guard_load_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.load_status <> 'in_progress' THEN
        RAISE EXCEPTION 'load % is finished (%); load history is immutable', OLD.load_id, OLD.load_status
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.load_id <> OLD.load_id OR NEW.source_code <> OLD.source_code
       OR NEW.started_at <> OLD.started_at OR NEW.loaded_by <> OLD.loaded_by
       OR NEW.target_schema <> OLD.target_schema THEN
        RAISE EXCEPTION 'load %: identity fields of a load event cannot change', OLD.load_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER load_events_finish_once
    BEFORE UPDATE ON datawarp.tbl_load_events
    FOR EACH ROW EXECUTE FUNCTION datawarp.guard_load_event();
CREATE TRIGGER load_events_no_delete
    BEFORE DELETE ON datawarp.tbl_load_events
    FOR EACH ROW EXECUTE FUNCTION datawarp.refuse_change();
CREATE TRIGGER load_events_no_truncate
    BEFORE TRUNCATE ON datawarp.tbl_load_events
    FOR EACH STATEMENT EXECUTE FUNCTION datawarp.refuse_change();
