-- 0012: two facts a load knows when it finishes, kept on its event so the scorecard counts
-- them instead of probing every load of its window: whether the validation gates ran on it,
-- and which earlier completed load of the same file and period it repeats (none for REPLACE,
-- which removes the earlier rows).

ALTER TABLE datawarp.tbl_load_events
    ADD COLUMN validated boolean,
    ADD COLUMN repeat_of bigint REFERENCES datawarp.tbl_load_events (load_id);

-- Load history is immutable; deriving these facts for events finished before they were
-- recorded is the one exception, made by the catalog's owner (here, once).
CREATE FUNCTION datawarp.derive_load_facts() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    ALTER TABLE datawarp.tbl_load_events DISABLE TRIGGER load_events_finish_once;
    UPDATE datawarp.tbl_load_events e
       SET validated = EXISTS (SELECT 1 FROM datawarp.tbl_validation_results v
                                WHERE v.load_id = e.load_id),
           repeat_of = CASE WHEN e.load_mode IS DISTINCT FROM 'REPLACE' THEN
               (SELECT max(d.load_id) FROM datawarp.tbl_load_events d
                 WHERE d.file_sha256 = e.file_sha256 AND d.load_id < e.load_id
                   AND d.load_status = 'completed' AND d.target_schema = e.target_schema
                   AND d.source_code = e.source_code
                   AND d.period IS NOT DISTINCT FROM e.period) END
     WHERE e.load_status = 'completed' AND e.validated IS NULL;
    ALTER TABLE datawarp.tbl_load_events ENABLE TRIGGER load_events_finish_once;
END
$$;
REVOKE EXECUTE ON FUNCTION datawarp.derive_load_facts() FROM PUBLIC;

SELECT datawarp.derive_load_facts();
