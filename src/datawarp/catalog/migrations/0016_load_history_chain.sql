-- Finished load events are chained like the audit log, so that a load edited or deleted with
-- the triggers switched off (session_replication_role = replica, DISABLE TRIGGER) is caught by
-- `datawarp audit verify`: each event, as it finishes, takes the next chain position, the hash
-- of the event finished before it, and a hash over its own facts (not the derived validated /
-- repeat_of, nor the traceback or column statistics). A lock held to commit keeps one
-- finisher at a time, like the audit log's writers.
ALTER TABLE datawarp.tbl_load_events
    ADD COLUMN chain_position bigint UNIQUE,
    ADD COLUMN prev_hash text,
    ADD COLUMN row_hash text;
CREATE SEQUENCE datawarp.load_chain_seq;

CREATE FUNCTION datawarp.load_event_hash(prev_hash text, e datawarp.tbl_load_events)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        prev_hash, e.chain_position, e.load_id, e.source_code, e.load_status, e.rows_loaded,
        e.columns_added, extract(epoch FROM e.started_at), extract(epoch FROM e.completed_at),
        e.error_message, e.period, e.source_file, e.sheet, e.file_sha256, e.file_bytes,
        e.target_schema, e.target_table, e.load_mode, e.interrupted, e.loaded_by
    )::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION datawarp.chain_load_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7318201450002);
    SELECT e.row_hash INTO NEW.prev_hash FROM datawarp.tbl_load_events e
     WHERE e.chain_position IS NOT NULL ORDER BY e.chain_position DESC LIMIT 1;
    NEW.prev_hash := coalesce(NEW.prev_hash, repeat('0', 64));
    NEW.chain_position := nextval('datawarp.load_chain_seq');
    NEW.row_hash := datawarp.load_event_hash(NEW.prev_hash, NEW);
    RETURN NEW;
END
$$;

-- Named to run after the other BEFORE triggers (they fire in name order): it hashes NEW last.
CREATE TRIGGER load_events_zz_chain
    BEFORE UPDATE ON datawarp.tbl_load_events
    FOR EACH ROW WHEN (OLD.load_status = 'in_progress' AND NEW.load_status <> 'in_progress')
    EXECUTE FUNCTION datawarp.chain_load_event();

-- Events finished before this migration join the chain in the order they finished.
DO $$
DECLARE
    event datawarp.tbl_load_events%ROWTYPE;
    previous text := repeat('0', 64);
BEGIN
    ALTER TABLE datawarp.tbl_load_events DISABLE TRIGGER load_events_finish_once;
    FOR event IN SELECT * FROM datawarp.tbl_load_events WHERE load_status <> 'in_progress'
                  ORDER BY completed_at, load_id LOOP
        event.chain_position := nextval('datawarp.load_chain_seq');
        event.prev_hash := previous;
        event.row_hash := datawarp.load_event_hash(previous, event);
        UPDATE datawarp.tbl_load_events SET chain_position = event.chain_position,
               prev_hash = event.prev_hash, row_hash = event.row_hash
         WHERE load_id = event.load_id;
        previous := event.row_hash;
    END LOOP;
    ALTER TABLE datawarp.tbl_load_events ENABLE TRIGGER load_events_finish_once;
END
$$;
