-- 0003: what governed loading records beyond the seed's tables: the kind of period of each
-- load, schema change review, held-back values of unapproved columns, column metadata.

ALTER TABLE datawarp.tbl_load_events
    ADD COLUMN period_kind text,
    ADD COLUMN duration_seconds numeric,
    ADD COLUMN skipped_reason text;

CREATE TABLE datawarp.tbl_schema_changes (
    change_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_code    text NOT NULL,
    target_schema  text NOT NULL,
    target_table   text NOT NULL,
    load_id        bigint REFERENCES datawarp.tbl_load_events (load_id),
    kind           text NOT NULL,
    -- [{"name": ..., "type": ..., "original_header": ..., "old_type": ...}, ...]
    columns        jsonb NOT NULL,
    status         text NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    requested_by   text NOT NULL DEFAULT datawarp.current_actor(),
    decided_at     timestamptz,
    decided_by     text,
    decision_note  text,
    CONSTRAINT schema_change_kind CHECK (kind IN ('create', 'add', 'widen')),
    CONSTRAINT schema_change_status CHECK (status IN ('pending', 'approved', 'rejected', 'auto')),
    CONSTRAINT decided_when_decided
        CHECK ((status IN ('approved', 'rejected')) = (decided_at IS NOT NULL))
);
CREATE INDEX tbl_schema_changes_source_idx ON datawarp.tbl_schema_changes (source_code, change_id);
CREATE INDEX tbl_schema_changes_pending_idx ON datawarp.tbl_schema_changes (change_id)
    WHERE status = 'pending';

-- Values of columns waiting for review, keyed by the load and the row's number in its sheet,
-- so approving a change can backfill them without downloading the file again.
CREATE TABLE datawarp.tbl_quarantine (
    change_id    bigint NOT NULL REFERENCES datawarp.tbl_schema_changes (change_id),
    load_id      bigint NOT NULL REFERENCES datawarp.tbl_load_events (load_id),
    row_number   integer NOT NULL,
    values       jsonb NOT NULL,
    PRIMARY KEY (change_id, load_id, row_number)
);

CREATE TABLE datawarp.tbl_column_metadata (
    source_code      text NOT NULL,
    column_name      text NOT NULL,
    description      text,
    search_terms     text[] NOT NULL DEFAULT '{}',
    original_header  text,
    data_type        text,
    first_load_id    bigint REFERENCES datawarp.tbl_load_events (load_id),
    last_load_id     bigint REFERENCES datawarp.tbl_load_events (load_id),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_code, column_name)
);
