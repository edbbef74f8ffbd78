-- Skipped files never get a load event (the idempotency check runs before one is written),
-- so this column has never held a value.
ALTER TABLE datawarp.tbl_load_events DROP COLUMN skipped_reason;
