-- 0013: whole-history load counters for Prometheus, kept as loads finish, so a /metrics
-- scrape reads a few rows instead of counting a million events. Loads into staging only.

CREATE TABLE datawarp.tbl_load_totals (
    load_status           text PRIMARY KEY,
    loads                 bigint NOT NULL DEFAULT 0,
    duration_seconds_sum  numeric NOT NULL DEFAULT 0
);

-- Completed loads per duration bucket (not cumulative): ``le`` is the bucket's upper bound in
-- seconds, the last one infinite.
CREATE TABLE datawarp.tbl_load_duration_buckets (
    le     double precision PRIMARY KEY,
    loads  bigint NOT NULL DEFAULT 0
);
INSERT INTO datawarp.tbl_load_duration_buckets (le)
SELECT unnest(ARRAY[0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 'Infinity'])::float8;

CREATE FUNCTION datawarp.count_finished_load() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
BEGIN
    IF OLD.load_status = 'in_progress' AND NEW.load_status <> 'in_progress'
       AND NEW.target_schema = 'staging' THEN
        INSERT INTO datawarp.tbl_load_totals AS t VALUES
            (NEW.load_status, 1, coalesce(NEW.duration_seconds, 0))
        ON CONFLICT (load_status) DO UPDATE SET loads = t.loads + 1,
            duration_seconds_sum = t.duration_seconds_sum + EXCLUDED.duration_seconds_sum;
        IF NEW.load_status = 'completed' AND NEW.duration_seconds IS NOT NULL THEN
            UPDATE datawarp.tbl_load_duration_buckets SET loads = loads + 1
             WHERE le = (SELECT min(b.le) FROM datawarp.tbl_load_duration_buckets b
                          WHERE b.le >= NEW.duration_seconds);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER load_events_count_finished
    AFTER UPDATE OF load_status ON datawarp.tbl_load_events
    FOR EACH ROW EXECUTE FUNCTION datawarp.count_finished_load();

-- The history so far (a rebuild the catalog's owner may run again: see the function below).
CREATE FUNCTION datawarp.recount_load_totals() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM datawarp.tbl_load_totals;
    INSERT INTO datawarp.tbl_load_totals
    SELECT load_status, count(*), coalesce(sum(duration_seconds), 0)
      FROM datawarp.tbl_load_events
     WHERE target_schema = 'staging' AND load_status <> 'in_progress' GROUP BY 1;
    UPDATE datawarp.tbl_load_duration_buckets b SET loads = coalesce((
        SELECT count(*) FROM datawarp.tbl_load_events e
         WHERE e.target_schema = 'staging' AND e.load_status = 'completed'
           AND e.duration_seconds <= b.le
           AND e.duration_seconds > coalesce((SELECT max(p.le)
                 FROM datawarp.tbl_load_duration_buckets p WHERE p.le < b.le), '-Infinity')), 0);
$$;
REVOKE EXECUTE ON FUNCTION datawarp.recount_load_totals() FROM PUBLIC;
SELECT datawarp.recount_load_totals();
