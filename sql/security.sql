-- security.sql: who may do what. The two roles pggit works with, the agents registry, the invoker helpers
-- every SECURITY DEFINER function of pggit authorizes with, and pggit.operations: the per-transaction state
-- of pggit's own operations, which sessions cannot forge. Idempotent. The trust model is written down in
-- docs/threat-model.md; grants are made in grants.sql, after every function exists.
--
--   pggit_agent   (NOLOGIN) what every agent role is a member of: read main and pggit's tables, use
--                 pggit's functions. An agent owns the schemas of its branches (and everything in them)
--                 and has no write privilege on main or on other agents' branches.
--   pggit_merger  (NOLOGIN) who may merge into main, resolve anyone's conflicts, name another commit
--                 author, force a resolution and record changes made outside pggit. Superusers count as
--                 mergers. A merger also needs the right to change main's objects (owning them, or a
--                 superuser): merges run their DDL with the merger's own privileges.
-- pggit trusts no setting a session can set (pggit.branch, pggit.internal, pggit.statement, search_path):
-- what branch a session is on lives in pggit.sessions, what pggit itself is doing in pggit.operations, both
-- written only by pggit's SECURITY DEFINER functions.

DO $do$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['pggit_agent', 'pggit_merger'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                -- another database's `pggit init` created it at the same moment (roles are per server)
                NULL;
            END;
        END IF;
        -- a group role never logs in and has no attributes of its own
        EXECUTE format('ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', r);
    END LOOP;
END
$do$;
COMMENT ON ROLE pggit_agent IS 'pggit-flows: every agent role is a member (read main, own branches only)';
COMMENT ON ROLE pggit_merger IS 'pggit-flows: may merge into main and resolve any conflict';

-- Agent roles made by pggit.add_agent in this database (roles are per server, this registry per database).
-- The password is kept so that adding an agent again gives the same connection string; only pggit's owner
-- (and superusers) can read it.
CREATE TABLE IF NOT EXISTS pggit.agents (
    name       text PRIMARY KEY,
    password   text NOT NULL,
    merger     boolean NOT NULL DEFAULT false,
    created_by text NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- The role's password verifier (pg_authid.rolpassword) when the password above was set: when it no longer
-- matches, the role's password was changed since (by another database's pggit.add_agent, or by hand).
ALTER TABLE pggit.agents ADD COLUMN IF NOT EXISTS verifier text;
REVOKE ALL ON pggit.agents FROM PUBLIC;

-- What pggit's own operations are doing in a transaction: one row per branch an operation may change
-- (branch 0: the whole database, while `pggit init` runs). Written only by pggit's functions; capture and
-- the guard read it. Rows are keyed by backend and top-level transaction, so a row left behind by a
-- transaction that ended never matches again (stale rows are pruned when the backend starts another).
CREATE UNLOGGED TABLE IF NOT EXISTS pggit.operations (
    pid        integer NOT NULL,
    txid       xid8 NOT NULL,
    branch_id  bigint NOT NULL,
    mode       text NOT NULL CHECK (mode IN ('install', 'copy', 'drop', 'merge')),
    merge_id   bigint,
    doc        jsonb,
    role_name  text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (pid, txid, branch_id)
);
REVOKE ALL ON pggit.operations FROM PUBLIC;

-- The role that called into pggit: the session's role (after SET ROLE), also inside SECURITY DEFINER
-- functions, where current_user is pggit's owner. (The small helpers of capture's path are PL/pgSQL: their
-- plans are cached for the session, where a SQL function's are made again on every statement.)
CREATE OR REPLACE FUNCTION pggit._invoker() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END;
END
$fn$;

-- Whether a role may act for everyone in pggit: a superuser or a member of pggit_merger.
CREATE OR REPLACE FUNCTION pggit._is_merger(role_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN coalesce((SELECT r.rolsuper OR pg_has_role(r.oid, 'pggit_merger', 'MEMBER')
                       FROM pg_roles r WHERE r.rolname = _is_merger.role_name), false);
END
$fn$;

-- Whether a role is an agent: a member of pggit_agent that is neither a merger nor a superuser.
CREATE OR REPLACE FUNCTION pggit._is_agent(role_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN coalesce((SELECT NOT r.rolsuper AND pg_has_role(r.oid, 'pggit_agent', 'MEMBER')
                            AND NOT pg_has_role(r.oid, 'pggit_merger', 'MEMBER')
                       FROM pg_roles r WHERE r.rolname = _is_agent.role_name), false);
END
$fn$;

-- PGG51 unless the invoker is a merger; `what` says what needed it.
CREATE OR REPLACE FUNCTION pggit._require_merger(what text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
BEGIN
    IF NOT pggit._is_merger(pggit._invoker()) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG51',
            MESSAGE = format('role %s may not %s: that needs a merger', pggit._invoker(), what),
            HINT = 'connect as a merger (a superuser, or a role granted pggit_merger: pggit agent add NAME --merger)';
    END IF;
END
$fn$;

-- Start an operation on a branch in this transaction (pggit's own SECURITY DEFINER functions only).
CREATE OR REPLACE FUNCTION pggit._op_begin(p_branch bigint, p_mode text, p_merge bigint DEFAULT NULL,
                                           p_doc jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
BEGIN
    DELETE FROM pggit.operations o WHERE o.pid = pg_backend_pid() AND o.txid <> pg_current_xact_id();
    INSERT INTO pggit.operations AS o (pid, txid, branch_id, mode, merge_id, doc, role_name)
    VALUES (pg_backend_pid(), pg_current_xact_id(), p_branch, p_mode, p_merge, p_doc, pggit._invoker())
    ON CONFLICT (pid, txid, branch_id) DO UPDATE
       SET mode = EXCLUDED.mode, merge_id = EXCLUDED.merge_id, doc = EXCLUDED.doc, role_name = EXCLUDED.role_name,
           started_at = clock_timestamp();
END
$fn$;

CREATE OR REPLACE FUNCTION pggit._op_end(p_branch bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog AS $fn$
    DELETE FROM pggit.operations o
     WHERE o.pid = pg_backend_pid() AND o.txid = pg_current_xact_id() AND o.branch_id = $1
$fn$;

-- The operation row of this transaction on a branch, or PGG50 when there is none of that mode.
CREATE OR REPLACE FUNCTION pggit._op_require(p_branch bigint, p_mode text) RETURNS pggit.operations
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
DECLARE
    op pggit.operations;
BEGIN
    SELECT * INTO op FROM pggit.operations o
     WHERE o.pid = pg_backend_pid() AND o.txid = pg_current_xact_id_if_assigned() AND o.branch_id = p_branch
       AND o.mode = p_mode;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
            MESSAGE = format('no %s operation on branch id %s is running in this transaction', p_mode, p_branch),
            HINT = 'this is one of pggit''s internal steps; call the public function (pggit.create_branch, pggit.merge) instead';
    END IF;
    RETURN op;
END
$fn$;

-- Agent names: what PostgreSQL accepts as a role name without surprises, and not a reserved one.
CREATE OR REPLACE FUNCTION pggit._validate_agent_name(p_name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    problem text;
BEGIN
    problem := CASE
        WHEN p_name IS NULL OR p_name = '' THEN 'it is empty'
        WHEN octet_length(p_name) > 63 THEN 'it is longer than 63 bytes'
        WHEN p_name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]*$' THEN 'use letters, digits and . _ - (starting with a letter or digit)'
        WHEN lower(p_name) LIKE 'pg\_%' THEN 'names starting with pg_ are reserved by PostgreSQL'
        WHEN lower(p_name) IN ('pggit_agent', 'pggit_merger', 'public', 'none', 'current_user', 'session_user',
                               'current_role', 'all') THEN 'it is a reserved role name'
    END;
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG30', MESSAGE = format('invalid agent name %L: %s', p_name, problem),
            HINT = 'use a name like claude-payments';
    END IF;
END
$fn$;

-- A role's password verifier, NULL when the caller may not read pg_authid (only superusers may).
CREATE OR REPLACE FUNCTION pggit._password_verifier(role_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN (SELECT a.rolpassword FROM pg_authid a WHERE a.rolname = _password_verifier.role_name);
EXCEPTION WHEN insufficient_privilege THEN
    RETURN NULL;
END
$fn$;

-- pggit.add_agent(name, merger): create (or keep) a LOGIN role for an agent, a member of pggit_agent (and of
-- pggit_merger with merger => true), never a superuser. Idempotent: adding an agent again keeps its password
-- (new_password => true makes a new one). Returns {"name", "password", "merger", "created",
-- "password_changed"}. Needs a superuser (or CREATEROLE and pggit's owner). A role of that name that is not
-- a pggit agent is refused.
CREATE OR REPLACE FUNCTION pggit.add_agent(name text, merger boolean DEFAULT false, new_password boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    agent_name text := add_agent.name;
    r pg_roles;
    rec pggit.agents;
    pw text;
    created boolean := false;
    changed boolean := false;
BEGIN
    PERFORM pggit._validate_agent_name(agent_name);
    SELECT * INTO r FROM pg_roles WHERE rolname = agent_name;
    IF FOUND AND NOT pg_has_role(r.oid, 'pggit_agent', 'MEMBER') THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG41',
            MESSAGE = format('role %s exists and is not a pggit agent', agent_name),
            HINT = 'choose another agent name; pggit does not turn existing roles into agents';
    END IF;
    IF FOUND AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG41',
            MESSAGE = format('role %s is a pggit agent with powers an agent must not have (superuser, createrole, createdb, replication or bypassrls)', agent_name),
            HINT = format('remove them (ALTER ROLE %I NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS) or remove the agent', agent_name);
    END IF;
    SELECT * INTO rec FROM pggit.agents a WHERE a.name = agent_name FOR UPDATE;
    IF FOUND AND r.oid IS NOT NULL AND NOT new_password
       AND rec.verifier IS NOT DISTINCT FROM pggit._password_verifier(agent_name) THEN
        pw := rec.password;
    ELSE
        pw := encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex');
        changed := r.oid IS NOT NULL;
    END IF;
    IF r.oid IS NULL THEN
        EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                       agent_name);
        created := true;
    END IF;
    IF created OR changed THEN
        EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', agent_name, pw);
    END IF;
    EXECUTE format('GRANT pggit_agent TO %I', agent_name);
    IF merger THEN
        EXECUTE format('GRANT pggit_merger TO %I', agent_name);
    ELSIF pg_has_role(agent_name, 'pggit_merger', 'MEMBER') THEN
        EXECUTE format('REVOKE pggit_merger FROM %I', agent_name);
    END IF;
    INSERT INTO pggit.agents AS a (name, password, merger, verifier)
    VALUES (agent_name, pw, merger, pggit._password_verifier(agent_name))
    ON CONFLICT ON CONSTRAINT agents_pkey DO UPDATE
       SET password = EXCLUDED.password, merger = EXCLUDED.merger, verifier = EXCLUDED.verifier;
    -- pggit's own grants are not history of main
    PERFORM pggit._op_begin(0, 'install');
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), agent_name);
    PERFORM pggit._grant_main_read();
    PERFORM pggit._op_end(0);
    RETURN jsonb_build_object('name', agent_name, 'password', pw, 'merger', merger, 'created', created,
                              'password_changed', changed);
END
$fn$;
COMMENT ON FUNCTION pggit.add_agent(text, boolean, boolean) IS
    'Create (idempotently) a non-superuser login role for an agent; returns its name and password';

-- pggit.remove_agent(name, force): drop an agent's role. Its live branches are deleted first with force
-- => true (refused otherwise); its sessions are ended. Refused when the role still owns objects in another
-- database (remove the agent there first).
CREATE OR REPLACE FUNCTION pggit.remove_agent(name text, force boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    agent_name text := remove_agent.name;
    owned text[];
    b text;
    ended integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pggit.agents a WHERE a.name = agent_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('agent %s does not exist in this database', agent_name),
            HINT = 'list agents with SELECT * FROM pggit.list_agents()';
    END IF;
    owned := ARRAY(SELECT x.name FROM pggit.branches x WHERE x.owner_role = agent_name AND x.status <> 'deleted' ORDER BY x.id);
    IF cardinality(owned) > 0 AND NOT force THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
            MESSAGE = format('agent %s owns live branches: %s', agent_name, array_to_string(owned, ', ')),
            HINT = 'merge or delete them first, or pass force => true to delete them with the agent';
    END IF;
    FOREACH b IN ARRAY owned LOOP
        PERFORM pggit.delete_branch(b, true);
    END LOOP;
    SELECT count(pg_terminate_backend(a.pid)) INTO ended FROM pg_stat_activity a
     WHERE a.usename = agent_name AND a.pid <> pg_backend_pid();
    DELETE FROM pggit.agents a WHERE a.name = agent_name;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = agent_name) THEN
        EXECUTE format('DROP OWNED BY %I', agent_name);
        BEGIN
            EXECUTE format('DROP ROLE %I', agent_name);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG50',
                MESSAGE = format('role %s still owns objects or privileges in another database: %s', agent_name, SQLERRM),
                HINT = 'remove the agent in those databases first (pggit agent remove there), then here';
        END;
    END IF;
    RETURN jsonb_build_object('name', agent_name, 'branches_deleted', to_jsonb(owned), 'sessions_ended', ended);
END
$fn$;
COMMENT ON FUNCTION pggit.remove_agent(text, boolean) IS 'Drop an agent role (its branches too with force => true)';

-- pggit.list_agents(): the agents of this database, without their passwords.
CREATE OR REPLACE FUNCTION pggit.list_agents()
RETURNS TABLE (name text, merger boolean, live_branches bigint, created_by text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$
    SELECT a.name, pggit._is_merger(a.name),
           (SELECT count(*) FROM pggit.branches b WHERE b.owner_role = a.name AND b.status <> 'deleted'),
           a.created_by, a.created_at
      FROM pggit.agents a
     WHERE EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = a.name)
     ORDER BY a.name
$fn$;
COMMENT ON FUNCTION pggit.list_agents() IS 'Agents of this database (no passwords)';

-- The password of an agent (pggit's owner and superusers only: EXECUTE is not granted).
CREATE OR REPLACE FUNCTION pggit._agent_password(name text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT a.password FROM pggit.agents a WHERE a.name = $1
$fn$;

-- Let agents read all of main: USAGE on its schemas, SELECT on its tables, views and sequences, where
-- pggit_agent has not got it yet (pggit_agent's privileges are not part of snapshots). Called by
-- `pggit init`, pggit.add_agent, branch creation and merges into main. Returns how many objects it granted.
CREATE OR REPLACE FUNCTION pggit._grant_main_read() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    r record;
    n integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pggit.branch_schemas bs JOIN pggit.branches b ON b.id = bs.branch_id
                     JOIN pg_namespace ns ON ns.nspname = bs.physical_schema
                     LEFT JOIN pg_class c ON c.relnamespace = ns.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                    WHERE b.name = 'main' AND b.status <> 'deleted'
                      AND (NOT has_schema_privilege('pggit_agent', ns.oid, 'USAGE')
                           OR (c.oid IS NOT NULL AND NOT has_table_privilege('pggit_agent', c.oid, 'SELECT')))) THEN
        RETURN 0;
    END IF;
    -- concurrent GRANTs on one object fail ("tuple concurrently updated"): one granter at a time, and what
    -- another granted meanwhile is not granted again
    PERFORM pg_advisory_xact_lock(1885825396, 3);
    FOR r IN SELECT n.oid, n.nspname FROM pggit.branch_schemas bs JOIN pggit.branches b ON b.id = bs.branch_id
               JOIN pg_namespace n ON n.nspname = bs.physical_schema
              WHERE b.name = 'main' AND b.status <> 'deleted'
                AND NOT has_schema_privilege('pggit_agent', n.oid, 'USAGE') LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO pggit_agent, pggit_merger', r.nspname);
        n := n + 1;
    END LOOP;
    FOR r IN SELECT c.oid, c.relkind FROM pggit.branch_schemas bs JOIN pggit.branches b ON b.id = bs.branch_id
               JOIN pg_namespace ns ON ns.nspname = bs.physical_schema
               JOIN pg_class c ON c.relnamespace = ns.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              WHERE b.name = 'main' AND b.status <> 'deleted'
                AND NOT has_table_privilege('pggit_agent', c.oid, 'SELECT') LOOP
        EXECUTE format('GRANT SELECT ON %s %s TO pggit_agent', CASE WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                       r.oid::regclass);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;
