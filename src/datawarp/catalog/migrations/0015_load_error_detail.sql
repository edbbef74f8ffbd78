-- A failed load keeps the traceback of its failure beside the one-line message, so that
-- `load-batch --verbose` and `loads failed --verbose` can show where it came from.
ALTER TABLE datawarp.tbl_load_events ADD COLUMN error_detail text;
COMMENT ON COLUMN datawarp.tbl_load_events.error_detail IS
    'The traceback of a failed load (the last 20,000 characters), for --verbose and support';
