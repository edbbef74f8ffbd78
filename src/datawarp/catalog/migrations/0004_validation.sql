-- 0004: what the validation gates need: per-load column statistics from extraction (so a
-- re-run can tell a fully suppressed column from an extraction bug), severity on results,
-- and runs of the gates grouped per load.

ALTER TABLE datawarp.tbl_load_events ADD COLUMN column_stats jsonb;

ALTER TABLE datawarp.tbl_validation_results
    ADD COLUMN severity text,
    ADD COLUMN run_id bigint,
    ADD CONSTRAINT validation_severity_values CHECK (severity IN ('pass', 'warn', 'fail'));

CREATE SEQUENCE datawarp.validation_run_seq;

-- Validation history is evidence, like load history: append-only.
CREATE TRIGGER validation_results_append_only
    BEFORE UPDATE OR DELETE ON datawarp.tbl_validation_results
    FOR EACH ROW EXECUTE FUNCTION datawarp.refuse_change();
