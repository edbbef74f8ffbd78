-- 0006: monitoring. Freshness expectations per source, the periods each source has loaded
-- (its cadence and the next expected edition come from them), alert state, the notification
-- outbox, and the functions and views every dashboard reads: the CLI, the HTML report, the
-- web page and an analyst in psql or Grafana all read the same numbers.
--
-- Each dashboard is a function taking the moment to judge "now" by and the window in days
-- (so a test can fix the clock and `datawarp health --days N` can widen the window), and a
-- view calling it with now() and the default window, for SQL clients.

ALTER TABLE datawarp.tbl_data_sources
    ADD COLUMN stale_after_days integer,
    ADD CONSTRAINT stale_after_days_range CHECK (stale_after_days BETWEEN 1 AND 3650);

CREATE INDEX tbl_load_events_started_idx ON datawarp.tbl_load_events (started_at);
CREATE INDEX tbl_load_events_completed_idx
    ON datawarp.tbl_load_events (source_code, completed_at DESC) WHERE load_status = 'completed';
CREATE INDEX tbl_schema_changes_requested_idx ON datawarp.tbl_schema_changes (requested_at);

-- The first day of a period in DataWarp's canonical text (see the manifest documentation).
CREATE FUNCTION datawarp.period_start(period text, kind text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE kind
        WHEN 'month' THEN to_date(period || '-01', 'YYYY-MM-DD')
        WHEN 'day' THEN to_date(period, 'YYYY-MM-DD')
        WHEN 'year' THEN to_date(period || '-01-01', 'YYYY-MM-DD')
        WHEN 'quarter' THEN make_date(left(period, 4)::int, right(period, 1)::int * 3 - 2, 1)
        WHEN 'fiscal_year' THEN make_date(left(period, 4)::int, 4, 1)
        WHEN 'fiscal_quarter' THEN
            (make_date(left(period, 4)::int, 4, 1) + (right(period, 1)::int - 1) * interval '3 months')::date
        WHEN 'week' THEN to_date(period, 'IYYY-"W"IW')
    END
$$;

-- One row per (source, period) a completed load brought, kept by a trigger so the cadence of
-- 500 sources is read from a few thousand rows, never from a scan of the load history.
CREATE TABLE datawarp.tbl_source_periods (
    source_code      text NOT NULL,
    period_kind      text NOT NULL,
    period           text NOT NULL,
    period_start     date NOT NULL,
    first_loaded_at  timestamptz NOT NULL,
    PRIMARY KEY (source_code, period_kind, period)
);

CREATE FUNCTION datawarp.note_source_period() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
BEGIN
    IF NEW.load_status = 'completed' AND NEW.target_schema = 'staging'
       AND NEW.period IS NOT NULL AND NEW.period_kind IS NOT NULL THEN
        INSERT INTO datawarp.tbl_source_periods
            VALUES (NEW.source_code, NEW.period_kind, NEW.period,
                    datawarp.period_start(NEW.period, NEW.period_kind), NEW.completed_at)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER load_events_note_period
    AFTER UPDATE OF load_status ON datawarp.tbl_load_events
    FOR EACH ROW WHEN (NEW.load_status = 'completed') EXECUTE FUNCTION datawarp.note_source_period();

INSERT INTO datawarp.tbl_source_periods
SELECT source_code, period_kind, period, datawarp.period_start(period, period_kind),
       min(completed_at)
  FROM datawarp.tbl_load_events
 WHERE load_status = 'completed' AND target_schema = 'staging'
   AND period IS NOT NULL AND period_kind IS NOT NULL
 GROUP BY 1, 2, 3;

-- Alert state: one open (or acknowledged) alert per rule and source; a repeat raises its
-- count and last-seen time instead of alerting again; it resolves when its condition clears.
CREATE TABLE datawarp.tbl_alerts (
    alert_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule             text NOT NULL,
    source_code      text,
    severity         text NOT NULL,
    status           text NOT NULL DEFAULT 'open',
    message          text NOT NULL,
    details          jsonb NOT NULL DEFAULT '{}',
    occurrences      integer NOT NULL DEFAULT 1,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    note             text,
    resolved_at      timestamptz,
    resolved_by      text,
    CONSTRAINT alert_severity_values CHECK (severity IN ('info', 'warning', 'critical')),
    CONSTRAINT alert_status_values CHECK (status IN ('open', 'acknowledged', 'resolved')),
    CONSTRAINT alert_resolved_when_resolved
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX tbl_alerts_one_live_idx
    ON datawarp.tbl_alerts (rule, coalesce(source_code, '')) WHERE status <> 'resolved';
CREATE INDEX tbl_alerts_recent_idx ON datawarp.tbl_alerts (last_seen_at DESC);

CREATE TRIGGER audit_alert
    AFTER INSERT OR UPDATE OR DELETE ON datawarp.tbl_alerts
    FOR EACH ROW EXECUTE FUNCTION datawarp.record_audit('alert_id');

-- The outbox: a notification is written in the transaction of what caused it and delivered
-- after commit; a delivery that fails stays pending with its error, retried with backoff.
CREATE TABLE datawarp.tbl_notifications (
    notification_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at       timestamptz NOT NULL DEFAULT now(),
    kind             text NOT NULL,
    recipient        text NOT NULL,
    source_code      text,
    subject          text NOT NULL,
    body             text NOT NULL,
    alert_id         bigint REFERENCES datawarp.tbl_alerts (alert_id),
    load_id          bigint REFERENCES datawarp.tbl_load_events (load_id),
    status           text NOT NULL DEFAULT 'pending',
    delivered_by     text[] NOT NULL DEFAULT '{}',
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    CONSTRAINT notification_status_values CHECK (status IN ('pending', 'sent')),
    CONSTRAINT notification_sent_when_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX tbl_notifications_pending_idx
    ON datawarp.tbl_notifications (next_attempt_at) WHERE status = 'pending';
