-- 0011: access control. The group roles themselves are cluster-wide and created by
-- `datawarp access setup`; the catalog records which group plays which DataWarp role, who is
-- authorised, and enforces in the database what the roles may do, for every client.
-- The role lists are regular expressions rather than IN lists: the vocabulary test compares
-- every IN-list CHECK with core.vocabulary, and these roles are access policy, not load data.

CREATE TABLE datawarp.tbl_access_groups (
    datawarp_role  text PRIMARY KEY,
    group_role     text NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text NOT NULL DEFAULT datawarp.current_actor(),
    CONSTRAINT access_group_datawarp_role CHECK (datawarp_role ~ '^(analyst|engineer|dba)$'),
    CONSTRAINT access_group_role_name CHECK (group_role ~ '^[a-z_][a-z0-9_]*$'
                                             AND octet_length(group_role) <= 63)
);

CREATE TABLE datawarp.tbl_authorized_users (
    email          text PRIMARY KEY,
    db_role        text NOT NULL,
    datawarp_role  text NOT NULL,
    added_by       text NOT NULL DEFAULT datawarp.current_actor(),
    added_at       timestamptz NOT NULL DEFAULT now(),
    active         boolean NOT NULL DEFAULT true,
    revoked_by     text,
    revoked_at     timestamptz,
    CONSTRAINT authorized_email_format
        CHECK (email ~ '^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$' AND char_length(email) <= 254),
    CONSTRAINT authorized_db_role_name CHECK (db_role ~ '^[a-z_][a-z0-9_]*$'
                                              AND octet_length(db_role) <= 63),
    CONSTRAINT authorized_datawarp_role CHECK (datawarp_role ~ '^(analyst|engineer|dba)$'),
    CONSTRAINT revoked_has_time CHECK (active OR revoked_at IS NOT NULL)
);
-- One person per login: a shared account would defeat the audit trail.
CREATE UNIQUE INDEX tbl_authorized_users_login_idx
    ON datawarp.tbl_authorized_users (db_role) WHERE active;

CREATE TRIGGER audit_authorized_users
    AFTER INSERT OR UPDATE OR DELETE ON datawarp.tbl_authorized_users
    FOR EACH ROW EXECUTE FUNCTION datawarp.record_audit('email');
CREATE TRIGGER audit_access_groups
    AFTER INSERT OR UPDATE OR DELETE ON datawarp.tbl_access_groups
    FOR EACH ROW EXECUTE FUNCTION datawarp.record_audit('datawarp_role');

-- Superusers and members of the catalog's owner act without setup, so the single-user
-- embedded default keeps working. SECURITY DEFINER: callers need not read the user list.
-- session_user, not current_user: SET ROLE cannot borrow another login's authorisation.
CREATE FUNCTION datawarp.is_catalog_admin(login name) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login AND rolsuper)
        OR pg_has_role(login,
                       (SELECT relowner FROM pg_class
                         WHERE oid = 'datawarp.tbl_data_sources'::regclass), 'MEMBER')
$$;

-- `datawarp access check` asks the same function about any login.
CREATE FUNCTION datawarp.may_act_as(login name, wanted text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
    SELECT datawarp.is_catalog_admin(login)
        OR EXISTS (
            SELECT 1 FROM datawarp.tbl_authorized_users u
             WHERE u.db_role = login AND u.active
               AND array_position(ARRAY['analyst', 'engineer', 'dba'], u.datawarp_role)
                   >= array_position(ARRAY['analyst', 'engineer', 'dba'], wanted))
$$;

-- Everyone with a role reads the registry; only active authorised engineers and DBAs write.
ALTER TABLE datawarp.tbl_data_sources ENABLE ROW LEVEL SECURITY;
CREATE POLICY data_sources_read ON datawarp.tbl_data_sources FOR SELECT USING (true);
CREATE POLICY data_sources_insert ON datawarp.tbl_data_sources FOR INSERT
    WITH CHECK (datawarp.may_act_as(session_user, 'engineer'));
CREATE POLICY data_sources_update ON datawarp.tbl_data_sources FOR UPDATE
    USING (true) WITH CHECK (datawarp.may_act_as(session_user, 'engineer'));
CREATE POLICY data_sources_delete ON datawarp.tbl_data_sources FOR DELETE
    USING (datawarp.may_act_as(session_user, 'dba'));

-- Steps reserved to DBAs, refused in the database whichever client asks.
CREATE FUNCTION datawarp.require_dba() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT datawarp.may_act_as(session_user, 'dba') THEN
        RAISE EXCEPTION 'permission denied: % of %.% needs a DataWarp DBA (you are %)',
            TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME, session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER archives_need_dba
    BEFORE INSERT OR UPDATE OR DELETE ON datawarp.tbl_archives
    FOR EACH STATEMENT EXECUTE FUNCTION datawarp.require_dba();
CREATE TRIGGER maintenance_runs_need_dba
    BEFORE INSERT OR UPDATE OR DELETE ON datawarp.tbl_maintenance_runs
    FOR EACH STATEMENT EXECUTE FUNCTION datawarp.require_dba();
CREATE TRIGGER authorized_users_need_dba
    BEFORE INSERT OR UPDATE OR DELETE ON datawarp.tbl_authorized_users
    FOR EACH STATEMENT EXECUTE FUNCTION datawarp.require_dba();
CREATE TRIGGER access_groups_need_dba
    BEFORE INSERT OR UPDATE OR DELETE ON datawarp.tbl_access_groups
    FOR EACH STATEMENT EXECUTE FUNCTION datawarp.require_dba();

-- Deprecating, archiving and reviving a source, and deciding a schema change, are DBA steps
-- even though engineers may otherwise update those rows.
CREATE FUNCTION datawarp.guard_dba_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT datawarp.may_act_as(session_user, 'dba') THEN
        RAISE EXCEPTION 'permission denied: setting %.% to % needs a DataWarp DBA (you are %)',
            TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.status, session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER data_source_lifecycle_needs_dba
    BEFORE UPDATE ON datawarp.tbl_data_sources
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status
          AND (NEW.status IN ('deprecated', 'archived') OR OLD.status IN ('deprecated', 'archived')))
    EXECUTE FUNCTION datawarp.guard_dba_transition();
CREATE TRIGGER schema_change_decision_needs_dba
    BEFORE UPDATE ON datawarp.tbl_schema_changes
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('approved', 'rejected'))
    EXECUTE FUNCTION datawarp.guard_dba_transition();
