-- DBAs administer users (`datawarp access grant / revoke`), but granting a group role takes
-- its ADMIN option, which only whoever ran `access setup` holds. These functions run as the
-- catalog's owner and do the one step a DBA lacks: add a login to, or take it out of, one of
-- DataWarp's own group roles. The caller must be an active authorised DBA (or a catalog
-- admin; checked inside, so anyone may call it); the group must be one `access setup`
-- recorded; identifiers are quoted by format().
CREATE FUNCTION datawarp.set_group_membership(login name, group_role name, member boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, datawarp AS $$
BEGIN
    IF NOT datawarp.may_act_as(session_user, 'dba') THEN
        RAISE EXCEPTION 'changing DataWarp group membership needs a DBA'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM datawarp.tbl_access_groups g WHERE g.group_role = $2) THEN
        RAISE EXCEPTION '% is not a DataWarp group role', $2
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF member THEN
        EXECUTE format('GRANT %I TO %I', $2, $1);
    ELSE
        EXECUTE format('REVOKE %I FROM %I', $2, $1);
    END IF;
END
$$;
