-- capture.sql: which branch a session is on (checkout), the guard that keeps sessions and agents off what
-- is not theirs, DDL capture into pggit.ddl_log, commits (pggit.commit, pggit.record_drift) and
-- pggit.log() / pggit.uncommitted(). Idempotent (CREATE OR REPLACE, IF NOT EXISTS); owner of
-- pggit.ddl_log, pggit.sessions and pggit.dropped.
--
-- Nothing here trusts a setting a session can set. The branch a session is on is its row in pggit.sessions
-- (written by pggit.checkout); what pggit itself is doing is pggit.operations (security.sql): a branch being
-- copied or dropped is neither guarded nor captured, a merge's target is captured as part of that merge.
-- Setting pggit.branch, pggit.internal or pggit.statement changes nothing.
--
-- The guard (both event triggers) refuses, with SQLSTATE PGG50, a command that changes:
--   - an object of another branch, or of main, from a session checked out to a branch;
--   - anything but an agent's own branches, when the role is an agent (privileges refuse most of this
--     first; the guard also covers CREATE on main's schemas granted to PUBLIC);
--   - anything but the branch of a pggit operation running in the same transaction (a merge replays
--     statements into its target only);
--   - a schema that holds main or a branch (rename or drop), except when pggit drops a branch.
-- Objects without a schema of their own (triggers, rules, policies, defaults) are judged by their table.
--
-- pggit.ddl_log rows: one per DDL command and branch (the objects it touched are in `objects`). Of the
-- client message that ran it, only the DDL statements are recorded (pggit.statements: class ddl), once per
-- message, transaction and branch: later rows of the same message have statement = '' and statement_row =
-- the row holding it. Other statements of the message (UPDATE, DELETE, COPY, DO, SELECT ...) change the
-- branch only: they are never recorded for a merge (a WARNING says so), and `message` keeps the whole text
-- for the record. DDL run by a function or a DO block has no DDL statement of its own in the message: its
-- row records statement = '' and a merge applies pggit's plan for it. DDL a merge applies is recorded with
-- the merge (merge_id); the merge records its statements itself.
-- Event triggers need a superuser to install.

-- Which branch each live session is checked out to. Keyed by backend pid + backend start time (pids
-- are reused); rows of sessions that ended are pruned on every checkout.
CREATE TABLE IF NOT EXISTS pggit.sessions (
    pid            integer NOT NULL,
    backend_start  timestamptz NOT NULL,
    branch_id      bigint NOT NULL REFERENCES pggit.branches (id) ON DELETE CASCADE,
    role_name      text NOT NULL,
    checked_out_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pid, backend_start)
);
CREATE INDEX IF NOT EXISTS sessions_branch ON pggit.sessions (branch_id);
REVOKE ALL ON pggit.sessions FROM PUBLIC;

-- Objects a DROP removed, handed from the sql_drop trigger to the ddl_command_end trigger of the same
-- command (so that one command is one log row).
CREATE UNLOGGED TABLE IF NOT EXISTS pggit.dropped (
    pid     integer NOT NULL,
    txid    xid8 NOT NULL,
    objects jsonb NOT NULL,
    PRIMARY KEY (pid, txid)
);
REVOKE ALL ON pggit.dropped FROM PUBLIC;

-- ddl_log columns owned by this file (see the header).
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS objects jsonb NOT NULL DEFAULT '[]';
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS statement_row bigint REFERENCES pggit.ddl_log (id);
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS session_branch text;
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS message_at timestamptz;
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS message text;
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS merge_id bigint;
COMMENT ON COLUMN pggit.ddl_log.objects IS
    'every object the command touched: [{"action": "ddl"|"drop", "type", "schema", "identity", "tracked_schema"}]';
COMMENT ON COLUMN pggit.ddl_log.statement IS
    'the DDL statements of the client message (only them), on the message''s first row; '''' on later rows';
COMMENT ON COLUMN pggit.ddl_log.statement_row IS
    'NULL when this row holds the statement text; else the row (same transaction, same message) that does';
COMMENT ON COLUMN pggit.ddl_log.session_branch IS 'the branch the session was checked out to when it ran the DDL';
COMMENT ON COLUMN pggit.ddl_log.message_at IS 'statement_timestamp() of the client message';
COMMENT ON COLUMN pggit.ddl_log.message IS 'the whole client message, when it held more than its DDL statements';
COMMENT ON COLUMN pggit.ddl_log.merge_id IS 'the merge (pggit.merges) that applied this command';

-- When this backend started (the second half of a session's key in pggit.sessions: pids are reused). Read
-- from the activity statistics once per session and kept in a session setting; a value that is missing or
-- does not parse is read again. (A session that sets it to something else only loses its own checkout.)
CREATE OR REPLACE FUNCTION pggit._backend_start() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $fn$
DECLARE
    cached text := current_setting('pggit._backend_start', true);
    started timestamptz;
BEGIN
    IF cached ~ '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?$' THEN
        RETURN cached::timestamptz;
    END IF;
    started := (SELECT a.backend_start FROM pg_stat_get_activity(pg_backend_pid()) a);
    PERFORM set_config('pggit._backend_start', to_char(started AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00', false);
    RETURN started;
END
$fn$;

-- The session's branch (its pggit.sessions row), NULL when it never checked out or its branch is gone.
CREATE OR REPLACE FUNCTION pggit._session_branch_id() RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN (SELECT s.branch_id FROM pggit.sessions s JOIN pggit.branches b ON b.id = s.branch_id AND b.status <> 'deleted'
             WHERE s.pid = pg_backend_pid() AND s.backend_start = pggit._backend_start());
END
$fn$;

-- The branch a session is on: 'main' when it never checked out.
CREATE OR REPLACE FUNCTION pggit.current_branch() RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN coalesce((SELECT b.name FROM pggit.branches b WHERE b.id = pggit._session_branch_id()), 'main');
END
$fn$;

-- A live branch by name (status active or merged), or SQLSTATE PGG40.
CREATE OR REPLACE FUNCTION pggit._live_branch_id(branch_name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    found_id bigint;
BEGIN
    SELECT b.id INTO found_id FROM pggit.branches b WHERE b.name = branch_name AND b.status <> 'deleted';
    IF found_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40',
            MESSAGE = format('branch %L does not exist', branch_name),
            HINT = 'list branches with SELECT * FROM pggit.list_branches(), or create it with SELECT pggit.create_branch(...)';
    END IF;
    RETURN found_id;
END
$fn$;

-- Whether the invoker may work on a branch: its owner, or a merger (main: mergers only).
CREATE OR REPLACE FUNCTION pggit._may_change_branch(branch_id bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT coalesce((SELECT b.owner_role IS NOT NULL AND b.owner_role = pggit._invoker()
                       FROM pggit.branches b WHERE b.id = $1), false)
        OR pggit._is_merger(pggit._invoker())
$fn$;

-- PGG51 unless the invoker may work on the branch.
CREATE OR REPLACE FUNCTION pggit._require_branch_right(branch_id bigint, what text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
DECLARE
    b pggit.branches;
BEGIN
    IF pggit._may_change_branch(branch_id) THEN
        RETURN;
    END IF;
    SELECT * INTO b FROM pggit.branches x WHERE x.id = branch_id;
    RAISE EXCEPTION USING ERRCODE = 'PGG51',
        MESSAGE = format('role %s may not %s branch %s: %s', pggit._invoker(), what, b.name,
                         CASE WHEN b.name = 'main' THEN 'only mergers change main'
                              ELSE format('it belongs to %s', coalesce(b.owner_role, 'nobody')) END),
        HINT = CASE WHEN b.name = 'main'
                    THEN 'work on a branch of your own (pggit.create_branch), and let a merger merge it into main'
                    ELSE 'work on your own branches, or connect as a merger' END;
END
$fn$;

-- pggit.checkout(branch): point this session's search_path at the branch's physical schemas (in the
-- order of the tracked_schemas setting) plus pggit (plus public for main), and record the checkout in
-- pggit.sessions. Returns the search_path it set. Session-level: it lasts until the next checkout or the
-- end of the session (or is undone with the transaction if that rolls back). Agents check out main and
-- their own branches.
CREATE OR REPLACE FUNCTION pggit.checkout(branch text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    target_id bigint;
    path text;
    my_start timestamptz;
BEGIN
    IF branch IS NULL OR btrim(branch) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'checkout needs a branch name',
            HINT = 'SELECT pggit.checkout(''main'') or a branch listed by SELECT * FROM pggit.list_branches()';
    END IF;
    target_id := pggit._live_branch_id(branch);
    IF branch <> 'main' THEN
        PERFORM pggit._require_branch_right(target_id, 'check out');
    END IF;

    SELECT string_agg(quote_ident(bs.physical_schema), ', ' ORDER BY t.ord) INTO path
      FROM pggit.branch_schemas bs
      LEFT JOIN jsonb_array_elements_text((SELECT value FROM pggit.settings WHERE key = 'tracked_schemas'))
                WITH ORDINALITY AS t(name, ord) ON t.name = bs.tracked_schema
     WHERE bs.branch_id = target_id;
    IF path IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40',
            MESSAGE = format('branch %L has no schemas', branch),
            HINT = 'the branch is incomplete; delete it with SELECT pggit.delete_branch(..., force => true) and create it again';
    END IF;
    IF branch = 'main' AND NOT EXISTS (
        SELECT 1 FROM pggit.branch_schemas WHERE branch_id = target_id AND physical_schema = 'public') THEN
        path := path || ', public';
    END IF;
    path := path || ', pggit';

    my_start := pggit._backend_start();
    -- Prune the rows of sessions that ended (one pruner at a time; the others skip it).
    IF pg_try_advisory_xact_lock(1885825396, 1) THEN
        DELETE FROM pggit.sessions s
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a
                            WHERE a.pid = s.pid AND a.backend_start = s.backend_start);
        DELETE FROM pggit.operations o
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a WHERE a.pid = o.pid);
        DELETE FROM pggit.dropped d
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a WHERE a.pid = d.pid);
    END IF;
    INSERT INTO pggit.sessions AS s (pid, backend_start, branch_id, role_name)
    VALUES (pg_backend_pid(), my_start, target_id, pggit._invoker())
    ON CONFLICT (pid, backend_start) DO UPDATE
       SET branch_id = EXCLUDED.branch_id, role_name = EXCLUDED.role_name, checked_out_at = now();

    -- Session-level (is_local = false): a plain SET outlives this function's own SET clause.
    PERFORM pg_catalog.set_config('search_path', path, false);
    RETURN path;
END
$fn$;

-- Is another live session checked out to this branch? (delete_branch refuses such a branch.)
CREATE OR REPLACE FUNCTION pggit._branch_in_use(branch_id bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
    SELECT EXISTS (
        SELECT 1 FROM pggit.sessions s
          JOIN pg_stat_get_activity(NULL) a ON a.pid = s.pid AND a.backend_start = s.backend_start
         WHERE s.branch_id = $1 AND s.pid <> pg_backend_pid())
$fn$;

-- The guard's refusal (shared by both event trigger functions).
CREATE OR REPLACE FUNCTION pggit._guard_refuse(reason text, command_tag text, object_type text,
                                               object_identity text, owner_branch text, session_branch text)
RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    what text := format('%s may not change %s %s, which belongs to %s', command_tag, object_type,
                        coalesce(object_identity, '(unnamed)'),
                        CASE WHEN owner_branch = 'main' THEN 'main' ELSE format('branch %L', owner_branch) END);
BEGIN
    IF reason = 'session' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
            MESSAGE = format('this session is checked out to branch %L: %s', session_branch, what),
            HINT = CASE WHEN owner_branch = 'main'
                        THEN 'use unqualified names to change the branch''s own copy; main changes through a merge (a merger may also SELECT pggit.checkout(''main'') and change it there)'
                        ELSE format('SELECT pggit.checkout(%L) first to work on that branch', owner_branch) END;
    ELSIF reason = 'agent' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
            MESSAGE = format('role %s is an agent: %s', pggit._invoker(), what),
            HINT = 'agents change only their own branches: SELECT pggit.checkout(''<your branch>''), then run the DDL there';
    ELSIF reason = 'operation' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
            MESSAGE = format('a pggit operation is running in this transaction on other branches: %s', what),
            HINT = 'a merge or branch copy changes its own branch only; run other DDL in another transaction';
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
            MESSAGE = format('%s: schema %s holds %s; renaming or dropping it would detach it from pggit',
                             command_tag, coalesce(object_identity, '?'),
                             CASE WHEN owner_branch = 'main' THEN 'main' ELSE format('branch %L', owner_branch) END),
            HINT = CASE WHEN owner_branch = 'main'
                        THEN 'tracked schemas are configured in pggit.settings (tracked_schemas); they keep their names'
                        ELSE format('delete the branch with SELECT pggit.delete_branch(%L)', owner_branch) END;
    END IF;
END
$fn$;

-- The refusal of version 1 (five arguments): dropped from older databases.
DROP FUNCTION IF EXISTS pggit._guard_refuse(text, text, text, text, text);

-- The schema an object without one of its own belongs to: its table's (triggers, rules, policies, column
-- defaults). NULL for anything else.
CREATE OR REPLACE FUNCTION pggit._object_schema(classid oid, objid oid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT n.nspname::text
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = CASE $1
                     WHEN 'pg_trigger'::regclass THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = $2)
                     WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = $2)
                     WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = $2)
                     WHEN 'pg_attrdef'::regclass THEN (SELECT d.adrelid FROM pg_attrdef d WHERE d.oid = $2)
                   END
$fn$;

-- The guard for one branch a command touched (see the header); returns nothing or raises PGG50.
DROP FUNCTION IF EXISTS pggit._guard(bigint, bigint[], text, text, text);
CREATE OR REPLACE FUNCTION pggit._guard(branch_id bigint, op_branches bigint[], command_tag text, object_type text,
                                        object_identity text, session_bid bigint) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
DECLARE
    b pggit.branches;
    invoker text;
BEGIN
    SELECT * INTO b FROM pggit.branches x WHERE x.id = branch_id;
    IF op_branches IS NOT NULL THEN
        PERFORM pggit._guard_refuse('operation', command_tag, object_type, object_identity, b.name, NULL);
    END IF;
    IF session_bid IS NOT NULL AND session_bid <> branch_id
       AND (SELECT x.name FROM pggit.branches x WHERE x.id = session_bid) <> 'main' THEN
        PERFORM pggit._guard_refuse('session', command_tag, object_type, object_identity, b.name,
                                    (SELECT x.name FROM pggit.branches x WHERE x.id = session_bid));
    END IF;
    invoker := pggit._invoker();
    IF b.owner_role IS DISTINCT FROM invoker AND pggit._is_agent(invoker) THEN
        PERFORM pggit._guard_refuse('agent', command_tag, object_type, object_identity, b.name, NULL);
    END IF;
END
$fn$;

-- sql_drop: guard the dropped objects, then hand them to the ddl_command_end capture of the same
-- command (pggit.dropped) so one command is one log row.
CREATE OR REPLACE FUNCTION pggit._capture_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    op_branches bigint[];
    quiet bigint[];  -- branches pggit itself copies or drops in this transaction: neither guarded nor captured
    dropped jsonb := '[]'::jsonb;
    o record;
    owner_schema text;
    last_schema text;
    bid bigint;
    b_owner text;
    b_name text;
    guarded bigint[] := '{}'::bigint[];
    session_bid bigint;
    session_looked_up boolean := false;
    invoker text := pggit._invoker();
BEGIN
    SELECT array_agg(x.branch_id), coalesce(array_agg(x.branch_id) FILTER (WHERE x.mode IN ('copy', 'drop')), '{}')
      INTO op_branches, quiet
      FROM pggit.operations x WHERE x.pid = pg_backend_pid() AND x.txid = pg_current_xact_id_if_assigned();
    IF 0 = ANY (op_branches) THEN
        RETURN;  -- pggit init
    END IF;
    FOR o IN SELECT d.object_type, d.object_identity, d.original, d.object_name, d.schema_name, d.address_names
               FROM pg_event_trigger_dropped_objects() AS d
              WHERE (d.original OR d.normal) AND NOT d.is_temporary LOOP
        owner_schema := CASE WHEN o.object_type = 'schema' THEN o.object_name
                             WHEN o.schema_name IS NULL AND o.object_type IN ('trigger', 'rule', 'policy', 'default value')
                             THEN o.address_names[1]
                             ELSE o.schema_name END;
        CONTINUE WHEN owner_schema IS NULL OR owner_schema = 'pggit' OR owner_schema ~ '^pg_(toast_)?temp_';
        IF owner_schema IS DISTINCT FROM last_schema THEN
            bid := NULL;
            SELECT bs.branch_id, b.owner_role, b.name INTO bid, b_owner, b_name
              FROM pggit.branch_schemas bs JOIN pggit.branches b ON b.id = bs.branch_id
             WHERE bs.physical_schema = owner_schema;
            last_schema := owner_schema;
        END IF;
        CONTINUE WHEN bid IS NULL OR bid = ANY (quiet);
        IF o.object_type = 'schema' THEN
            PERFORM pggit._guard_refuse('schema', tg_tag, 'schema', owner_schema, b_name, NULL);
        END IF;
        IF NOT bid = ANY (guarded) THEN
            guarded := guarded || bid;
            IF NOT session_looked_up THEN
                session_bid := pggit._session_branch_id();
                session_looked_up := true;
            END IF;
            IF NOT bid = ANY (coalesce(op_branches, '{}'))
               AND (op_branches IS NOT NULL OR (session_bid IS NOT NULL AND session_bid <> bid)
                    OR (b_owner IS DISTINCT FROM invoker AND pggit._is_agent(invoker))) THEN
                PERFORM pggit._guard(bid, op_branches, tg_tag, o.object_type, o.object_identity, session_bid);
            END IF;
        END IF;
        dropped := dropped || jsonb_build_object('type', o.object_type, 'schema', owner_schema,
                                                 'identity', o.object_identity, 'original', o.original);
    END LOOP;
    IF jsonb_array_length(dropped) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO pggit.dropped AS d (pid, txid, objects) VALUES (pg_backend_pid(), pg_current_xact_id(), dropped)
    ON CONFLICT (pid, txid) DO UPDATE SET objects = d.objects || EXCLUDED.objects;
    PERFORM set_config('pggit._dropped', 'yes', true);
END
$fn$;

-- The DDL statements of the client message running now, each once, joined into one script; and the
-- other statements it held that change or read data (for the warning). Both empty when there are none.
CREATE OR REPLACE FUNCTION pggit._message_ddl(msg text, OUT ddl text, OUT others text[])
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    s record;
    kind text;
    parts text[] := '{}'::text[];
BEGIN
    others := '{}';
    -- one plain statement (no literal, identifier, comment or second statement in it): no lexing needed
    ddl := rtrim(btrim(msg, E' \t\r\n\f'), E'; \t\r\n\f');
    IF ddl !~ '[;''"$/-]' THEN
        kind := pggit._statement_class(ddl, true);
        IF kind <> 'ddl' THEN
            IF kind NOT IN ('pggit', 'session', 'transaction', 'empty') THEN
                others := ARRAY[ddl];
            END IF;
            ddl := '';
        END IF;
        RETURN;
    END IF;
    FOR s IN SELECT x.body, x.skeleton, x.complete FROM pggit._split_sql(msg) AS x ORDER BY x.ord LOOP
        kind := pggit._statement_class(s.skeleton, s.complete);
        IF kind = 'ddl' THEN
            parts := parts || s.body;
        ELSIF kind NOT IN ('pggit', 'session', 'transaction', 'empty') THEN
            others := others || s.body;
        END IF;
    END LOOP;
    ddl := array_to_string(parts, E';\n');
END
$fn$;

-- ddl_command_end: guard what the command created or altered, then record one row per branch touched.
-- A plain loop (no sorts, no aggregates): most commands touch one to four objects of one branch.
CREATE OR REPLACE FUNCTION pggit._capture_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    op_branches bigint[];
    op_modes text[];
    op_merges bigint[];
    dropped jsonb;
    session_bid bigint;
    session_name text;
    session_looked_up boolean := false;
    c record;
    bid bigint;
    tracked text;
    last_owner text;
    last_bid bigint;
    last_tracked text;
    last_branch_owner text;
    branch_owner text;
    obj jsonb;
    owner_schema text;
    k integer;
    pos integer;
    -- One entry per branch touched, in first-seen order: its objects and its primary object.
    bids bigint[] := '{}'::bigint[];
    objs jsonb[] := '{}'::jsonb[];
    prim_type text[] := '{}'::text[];
    prim_schema text[] := '{}'::text[];
    prim_identity text[] := '{}'::text[];
    prim_best boolean[] := '{}'::boolean[];
    owners text[] := '{}'::text[];
    invoker text := pggit._invoker();
    invoker_is_agent boolean;
    renamed_schema text[] := '{}'::text[];
    msg text;
    msg_ddl text;
    msg_others text[];
    msg_key text;
    text_row bigint;
    new_id bigint;
BEGIN
    SELECT array_agg(o.branch_id), array_agg(o.mode), array_agg(o.merge_id)
      INTO op_branches, op_modes, op_merges FROM pggit.operations o
     WHERE o.pid = pg_backend_pid() AND o.txid = pg_current_xact_id_if_assigned();
    IF 0 = ANY (op_branches) THEN
        RETURN;  -- pggit init
    END IF;
    -- (the setting is only a hint that sql_drop ran for this command; what was dropped is in pggit.dropped)
    IF current_setting('pggit._dropped', true) = 'yes' THEN
        PERFORM set_config('pggit._dropped', '', true);
        DELETE FROM pggit.dropped d WHERE d.pid = pg_backend_pid() AND d.txid = pg_current_xact_id()
        RETURNING d.objects INTO dropped;
    END IF;

    FOR c IN
        SELECT 'drop' AS action, x->>'type' AS object_type, x->>'identity' AS object_identity,
               (x->>'original')::boolean AS best, x->>'schema' AS owner_schema, NULL::oid AS classid,
               NULL::oid AS objid
          FROM jsonb_array_elements(dropped) AS x
        UNION ALL
        SELECT 'ddl', d.object_type, d.object_identity, d.command_tag = tg_tag, d.schema_name, d.classid, d.objid
          FROM pg_event_trigger_ddl_commands() AS d
    LOOP
        owner_schema := c.owner_schema;
        IF c.action = 'ddl' AND c.object_type = 'schema' THEN
            owner_schema := (SELECT n.nspname::text FROM pg_namespace n WHERE n.oid = c.objid);
            -- a schema that holds a branch keeps its name: a rename would detach it
            IF NOT EXISTS (SELECT 1 FROM pggit.branch_schemas bs WHERE bs.physical_schema = owner_schema)
               AND EXISTS (SELECT 1 FROM pggit.branch_schemas bs WHERE bs.physical_oid = c.objid) THEN
                renamed_schema := renamed_schema || owner_schema;
                SELECT bs.physical_schema INTO owner_schema FROM pggit.branch_schemas bs WHERE bs.physical_oid = c.objid;
            END IF;
        ELSIF c.action = 'ddl' AND owner_schema IS NULL AND c.object_identity IS NOT NULL THEN
            owner_schema := pggit._object_schema(c.classid, c.objid);
        END IF;
        IF owner_schema = 'pggit' OR owner_schema ~ '^pg_(toast_)?temp_' THEN
            CONTINUE;
        END IF;
        IF owner_schema IS NULL THEN
            -- Objects outside schemas are not versioned; GRANT/REVOKE name no object: the session's branch.
            IF c.object_identity IS NOT NULL THEN
                CONTINUE;
            END IF;
            -- (a merge's GRANTs belong to its target)
            IF cardinality(op_branches) = 1 THEN
                bid := op_branches[1];
            ELSE
                IF NOT session_looked_up THEN
                    session_bid := pggit._session_branch_id();
                    session_looked_up := true;
                END IF;
                bid := coalesce(session_bid,
                                (SELECT b.id FROM pggit.branches b WHERE b.name = 'main' AND b.status <> 'deleted'));
            END IF;
            tracked := NULL;
            branch_owner := (SELECT b.owner_role FROM pggit.branches b WHERE b.id = bid);
        ELSE
            IF owner_schema IS DISTINCT FROM last_owner THEN
                last_bid := NULL;
                last_tracked := NULL;
                last_branch_owner := NULL;
                SELECT bs.branch_id, bs.tracked_schema, b.owner_role INTO last_bid, last_tracked, last_branch_owner
                  FROM pggit.branch_schemas bs JOIN pggit.branches b ON b.id = bs.branch_id
                 WHERE bs.physical_schema = owner_schema;
                last_owner := owner_schema;
            END IF;
            bid := last_bid;
            tracked := last_tracked;
            branch_owner := last_branch_owner;
        END IF;
        IF bid IS NULL THEN
            CONTINUE;
        END IF;
        obj := jsonb_build_object('action', c.action, 'type', c.object_type, 'schema', owner_schema,
                                  'identity', c.object_identity, 'tracked_schema', tracked);
        k := array_position(bids, bid);
        IF k IS NULL THEN
            bids := bids || bid;
            k := cardinality(bids);
            objs[k] := jsonb_build_array(obj);
            prim_type[k] := c.object_type;
            prim_schema[k] := owner_schema;
            prim_identity[k] := c.object_identity;
            prim_best[k] := coalesce(c.best, false);
            owners[k] := branch_owner;
        ELSIF NOT objs[k] @> jsonb_build_array(obj) THEN
            objs[k] := objs[k] || obj;
            IF coalesce(c.best, false) AND NOT prim_best[k] THEN
                prim_type[k] := c.object_type;
                prim_schema[k] := owner_schema;
                prim_identity[k] := c.object_identity;
                prim_best[k] := true;
            END IF;
        END IF;
    END LOOP;

    FOR k IN 1 .. cardinality(bids) LOOP
        pos := array_position(op_branches, bids[k]);
        IF pos IS NOT NULL AND op_modes[pos] IN ('copy', 'drop') THEN
            CONTINUE;  -- pggit copying or dropping this branch: not history
        END IF;
        IF cardinality(renamed_schema) > 0 THEN
            PERFORM pggit._guard_refuse('schema', tg_tag, 'schema', renamed_schema[1],
                                        (SELECT b.name FROM pggit.branches b WHERE b.id = bids[k]), NULL);
        END IF;
        IF NOT session_looked_up THEN
            session_bid := pggit._session_branch_id();
            session_looked_up := true;
        END IF;
        IF session_name IS NULL THEN
            session_name := CASE WHEN session_bid IS NULL THEN 'main'
                                 ELSE (SELECT b.name FROM pggit.branches b WHERE b.id = session_bid) END;
        END IF;
        -- the guard (pggit._guard raises with the reason): only what it would refuse calls it
        IF pos IS NULL THEN
            IF op_branches IS NOT NULL
               OR (session_bid IS NOT NULL AND session_bid <> bids[k] AND session_name <> 'main') THEN
                PERFORM pggit._guard(bids[k], op_branches, tg_tag, prim_type[k], prim_identity[k], session_bid);
            END IF;
            IF owners[k] IS DISTINCT FROM invoker THEN
                IF invoker_is_agent IS NULL THEN
                    invoker_is_agent := pggit._is_agent(invoker);
                END IF;
                IF invoker_is_agent THEN
                    PERFORM pggit._guard(bids[k], op_branches, tg_tag, prim_type[k], prim_identity[k], session_bid);
                END IF;
            END IF;
        END IF;
        IF pos IS NOT NULL THEN
            -- a merge applying its statements: recorded with the merge, which records their text itself
            INSERT INTO pggit.ddl_log (branch_id, command_tag, object_type, schema_name, object_identity, statement,
                                       role_name, objects, session_branch, message_at, merge_id)
            VALUES (bids[k], tg_tag, prim_type[k], prim_schema[k], prim_identity[k], '', invoker, objs[k],
                    session_name, statement_timestamp(), op_merges[pos]);
            CONTINUE;
        END IF;
        -- One client message (same statement start) in this transaction and branch: its text is stored once.
        msg_key := extract(epoch FROM statement_timestamp())::text || ':' || bids[k];
        text_row := NULL;
        IF current_setting('pggit._capture_key', true) = msg_key THEN
            -- the setting only points at a row; the row itself must be this message's (a forged value
            -- points at nothing usable)
            SELECT l.id INTO text_row FROM pggit.ddl_log l
             WHERE l.id = nullif(current_setting('pggit._capture_row', true), '')::bigint
               AND l.branch_id = bids[k] AND l.txid = pg_current_xact_id() AND l.statement_row IS NULL
               AND l.message_at = statement_timestamp() AND l.merge_id IS NULL;
        END IF;
        IF text_row IS NULL AND msg IS NULL THEN
            msg := coalesce(current_query(), '');
            SELECT m.ddl, m.others INTO msg_ddl, msg_others FROM pggit._message_ddl(msg) m;
            IF cardinality(msg_others) > 0 THEN
                RAISE WARNING USING
                    MESSAGE = format('pggit records only the DDL of this message for merges; %s other statement(s) '
                                     'changed this branch only and will never reach another branch: %s',
                                     cardinality(msg_others), left(array_to_string(msg_others, '; '), 200)),
                    HINT = 'send schema changes and data changes as separate statements; write backfills as migration steps';
            END IF;
        END IF;
        INSERT INTO pggit.ddl_log (branch_id, command_tag, object_type, schema_name, object_identity, statement,
                                   role_name, objects, statement_row, session_branch, message_at, message)
        VALUES (bids[k], tg_tag, prim_type[k], prim_schema[k], prim_identity[k],
                CASE WHEN text_row IS NULL THEN msg_ddl ELSE '' END,
                invoker, objs[k], text_row, session_name, statement_timestamp(),
                CASE WHEN text_row IS NULL AND msg IS DISTINCT FROM msg_ddl THEN msg END)
        RETURNING id INTO new_id;
        IF text_row IS NULL THEN
            PERFORM set_config('pggit._capture_key', msg_key, true);
            PERFORM set_config('pggit._capture_row', new_id::text, true);
        END IF;
    END LOOP;
END
$fn$;

-- The statements of a commit, in the order they ran, each client message once. A merge commit's are
-- the statements its merge applied.
CREATE OR REPLACE FUNCTION pggit._commit_statements(commit_id bigint) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pggit AS $fn$
    SELECT coalesce(
        (SELECT m.applied_sql FROM pggit.merges m WHERE m.result_commit_id = $1 ORDER BY m.id DESC LIMIT 1),
        (SELECT coalesce(array_agg(l.statement ORDER BY l.id), '{}')
           FROM pggit.ddl_log l
          WHERE l.commit_id = $1 AND l.statement_row IS NULL AND l.merge_id IS NULL AND l.statement <> ''))
$fn$;

-- (tracked schema, name) of what a captured object is or belongs to: a table for its columns,
-- constraints, triggers, policies and defaults, the object itself otherwise.
CREATE OR REPLACE FUNCTION pggit._log_object_name(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE WHEN obj->>'tracked_schema' IS NULL OR obj->>'identity' IS NULL THEN NULL
                ELSE (obj->>'tracked_schema') || '.' || (
                    SELECT CASE WHEN left(rest, 1) = '"' THEN replace(substring(rest FROM '^"((?:[^"]|"")*)"'), '""', '"')
                                ELSE substring(rest FROM '^([^.(\[ ]*)') END
                      FROM (SELECT CASE WHEN position(p IN ident) = 1 THEN substr(ident, length(p) + 1)
                                        ELSE ident END AS rest
                              FROM (SELECT regexp_replace(obj->>'identity', '^(.* on |for )', '') AS ident,
                                           quote_ident(obj->>'schema') || '.' AS p) a) b)
           END
$fn$;

-- (tracked schema, name) a snapshot key is about (the table of a column, constraint, trigger or policy).
CREATE OR REPLACE FUNCTION pggit._key_name(key text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT split_part(rest, '.', 1) || '.' || split_part(split_part(rest, '.', 2), '(', 1)
      FROM (SELECT substr(key, position(':' IN key) + 1) AS rest) r
$fn$;

-- Whether two definitions of an object differ in grants only (object and column grants).
CREATE OR REPLACE FUNCTION pggit._grants_only_differ(a jsonb, b jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT a IS NOT NULL AND b IS NOT NULL AND
           (SELECT (a - 'grants' - 'deps' - 'columns') = (b - 'grants' - 'deps' - 'columns')
                   AND coalesce((SELECT jsonb_object_agg(k, v - 'grants') FROM jsonb_each(a->'columns') AS c(k, v)), '{}')
                     = coalesce((SELECT jsonb_object_agg(k, v - 'grants') FROM jsonb_each(b->'columns') AS c(k, v)), '{}'))
$fn$;

-- Object keys that differ between a branch's head commit and `live` without any captured, uncommitted DDL
-- of the branch that could explain them: changes made outside pggit (event triggers off, replication role
-- replica, GRANT/REVOKE from another branch's session, ...). Sorted.
CREATE OR REPLACE FUNCTION pggit._drift(branch_id bigint, head_doc jsonb, live jsonb) RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pggit AS $fn$
BEGIN
    RETURN (
        WITH rows AS (
            SELECT l.command_tag, l.objects FROM pggit.ddl_log l WHERE l.branch_id = _drift.branch_id AND l.commit_id IS NULL
        ), touched AS (
            SELECT DISTINCT pggit._log_object_name(o) AS name
              FROM rows r, jsonb_array_elements(r.objects) AS o
        ), granted AS (
            SELECT EXISTS (SELECT 1 FROM rows r WHERE r.command_tag IN ('GRANT', 'REVOKE')) AS any
        )
        SELECT coalesce(array_agg(c->>'key' ORDER BY c->>'key'), '{}')
          FROM jsonb_array_elements(pggit._changes(head_doc, live)) AS c, granted g
         WHERE pggit._key_name(c->>'key') NOT IN (SELECT t.name FROM touched t WHERE t.name IS NOT NULL)
           AND NOT (g.any AND pggit._grants_only_differ(head_doc->'objects'->(c->>'key'), live->'objects'->(c->>'key'))));
END
$fn$;

-- Bring a branch's history up to its live schema before pggit builds on it (a merge, a branch point, a
-- commit): changes nobody captured become a commit of their own by 'outside pggit' (they are never folded
-- into another commit), then `label` commits the captured, uncommitted DDL when there is any (or when
-- `always`). Returns the head commit and whether a commit was made (then its snapshot is `live`).
-- With the setting on_drift = 'refuse' uncaptured changes raise PGG92 instead.
CREATE OR REPLACE FUNCTION pggit._settle(p_branch bigint, live jsonb, label text, author text, always boolean,
                                         OUT head bigint, OUT fresh boolean, OUT drift text[])
LANGUAGE plpgsql SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    b pggit.branches;
    head_doc jsonb;
    uncommitted boolean;
    drift_doc jsonb;
BEGIN
    SELECT * INTO b FROM pggit.branches x WHERE x.id = p_branch FOR NO KEY UPDATE;
    head := coalesce(b.head_commit_id, b.base_commit_id);
    fresh := false;
    drift := '{}';
    uncommitted := EXISTS (SELECT 1 FROM pggit.ddl_log l WHERE l.branch_id = p_branch AND l.commit_id IS NULL);
    IF head IS NULL THEN
        head := CASE WHEN always OR uncommitted
                     THEN pggit._record_commit(p_branch, label, coalesce(author, pggit._invoker()), live)
                     ELSE pggit._record_commit(p_branch, format('Initial state of %s', b.name), 'pggit', live) END;
        fresh := true;
        RETURN;
    END IF;
    head_doc := (SELECT s.doc FROM pggit.commits c JOIN pggit.snapshots s ON s.hash = c.snapshot_hash WHERE c.id = head);
    IF head_doc = live AND NOT uncommitted AND NOT always THEN
        RETURN;
    END IF;
    IF head_doc IS DISTINCT FROM live THEN
        drift := pggit._drift(p_branch, head_doc, live);
    END IF;
    IF cardinality(drift) > 0 THEN
        IF (SELECT s.value #>> '{}' FROM pggit.settings s WHERE s.key = 'on_drift') = 'refuse' THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG92',
                MESSAGE = format('%s has changes pggit did not capture: %s', b.name, array_to_string(drift, ', ')),
                HINT = format('record them as their own commit with SELECT pggit.record_drift(%L) (a merger), or undo them', b.name);
        END IF;
        -- the head's document with the uncaptured objects as they are live (all of live when nothing was captured)
        drift_doc := CASE WHEN uncommitted THEN pggit._path_take(head_doc, live,
                              (SELECT jsonb_agg(jsonb_build_object('key', k)) FROM unnest(drift) AS k))
                          ELSE live END;
        head := pggit._record_commit(p_branch, format('Changes made outside pggit: %s', array_to_string(drift, ', ')),
                                     'outside pggit', drift_doc, false);
        fresh := NOT uncommitted;
    END IF;
    IF uncommitted OR always THEN
        head := pggit._record_commit(p_branch, label, coalesce(author, pggit._invoker()), live);
        fresh := true;
    END IF;
END
$fn$;

-- pggit.commit(message, author): commit the session's branch (see pggit.checkout): snapshot it and group its
-- captured, uncommitted DDL into a new commit (changes pggit did not capture become a commit of their own,
-- by 'outside pggit'). The author defaults to the invoking role; only a merger may name someone else. An
-- agent commits its own branches; main takes commits from mergers only. Returns the commit id.
CREATE OR REPLACE FUNCTION pggit.commit(message text, author text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    target_id bigint;
    invoker text := pggit._invoker();
    who text := coalesce(author, pggit._invoker());
    settled record;
BEGIN
    IF message IS NULL OR btrim(message) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'the commit message is empty',
            HINT = 'say what changed: SELECT pggit.commit(''add users.oauth_provider'')';
    END IF;
    IF btrim(who) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'the commit author is empty',
            HINT = 'leave author out (it defaults to the current role) or name who made the change';
    END IF;
    target_id := coalesce(pggit._session_branch_id(), pggit._live_branch_id('main'));
    PERFORM pggit._require_branch_right(target_id, 'commit to');
    IF who <> invoker AND NOT pggit._is_merger(invoker) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG51',
            MESSAGE = format('role %s may not commit as %L: only a merger may name another author', invoker, who),
            HINT = 'leave the author out (it is your role), or connect as a merger';
    END IF;
    SELECT * INTO settled FROM pggit._settle(target_id, pggit._snapshot_of(target_id), message, who, true) s;
    RETURN settled.head;
END
$fn$;

-- pggit.record_drift(branch, note): record the branch's changes that pggit did not capture as a commit of
-- their own by 'outside pggit' (a merger). Returns the commit id, or NULL when there are none.
CREATE OR REPLACE FUNCTION pggit.record_drift(branch text DEFAULT 'main', note text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    bid bigint := pggit._live_branch_id(coalesce(branch, 'main'));
    b pggit.branches;
    head_doc jsonb;
    live jsonb;
    drift text[];
BEGIN
    PERFORM pggit._require_merger('record changes made outside pggit');
    SELECT * INTO b FROM pggit.branches x WHERE x.id = bid FOR NO KEY UPDATE;
    live := pggit._snapshot_of(bid);
    head_doc := (SELECT s.doc FROM pggit.commits c JOIN pggit.snapshots s ON s.hash = c.snapshot_hash
                  WHERE c.id = coalesce(b.head_commit_id, b.base_commit_id));
    drift := pggit._drift(bid, head_doc, live);
    IF cardinality(drift) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN pggit._record_commit(bid, format('Changes made outside pggit: %s%s', array_to_string(drift, ', '),
                                            CASE WHEN note IS NOT NULL THEN ' (' || note || ')' ELSE '' END),
                                'outside pggit',
                                CASE WHEN EXISTS (SELECT 1 FROM pggit.ddl_log l WHERE l.branch_id = bid AND l.commit_id IS NULL)
                                     THEN pggit._path_take(head_doc, live,
                                              (SELECT jsonb_agg(jsonb_build_object('key', k)) FROM unnest(drift) AS k))
                                     ELSE live END,
                                false);
END
$fn$;

-- The branch log() reads: a live branch by that name, else the most recently deleted one.
CREATE OR REPLACE FUNCTION pggit._log_branch_id(branch_name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    found_id bigint;
BEGIN
    SELECT b.id INTO found_id FROM pggit.branches b
     WHERE b.name = coalesce(branch_name, pggit.current_branch())
     ORDER BY b.status = 'deleted', b.id DESC LIMIT 1;
    IF found_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40',
            MESSAGE = format('branch %L does not exist', coalesce(branch_name, pggit.current_branch())),
            HINT = 'list branches with SELECT * FROM pggit.list_branches()';
    END IF;
    RETURN found_id;
END
$fn$;

CREATE OR REPLACE FUNCTION pggit._check_log_limit(lim integer) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
    IF lim IS NULL OR lim < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = format('log limit must be at least 1, got %s', coalesce(lim::text, 'NULL')),
            HINT = 'SELECT * FROM pggit.log(''main'', 50)';
    END IF;
    RETURN lim;
END
$fn$;

-- pggit.log(branch, lim): the branch's commits, newest first (branch NULL: the session's branch).
CREATE OR REPLACE FUNCTION pggit.log(branch text DEFAULT NULL, lim integer DEFAULT 50)
RETURNS TABLE (commit_id bigint, branch text, parent_id bigint, message text, author text,
               snapshot_hash text, created_at timestamptz, statements text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
    SELECT c.id, b.name, c.parent_id, c.message, c.author, c.snapshot_hash, c.created_at,
           pggit._commit_statements(c.id)
      FROM pggit.commits c JOIN pggit.branches b ON b.id = c.branch_id
     WHERE c.branch_id = pggit._log_branch_id($1)
     ORDER BY c.id DESC
     LIMIT pggit._check_log_limit($2)
$fn$;

-- pggit.uncommitted(branch): the branch's captured DDL that no commit holds yet, oldest first (branch
-- NULL: the session's branch). Each command shows the DDL statements of its message.
CREATE OR REPLACE FUNCTION pggit.uncommitted(branch text DEFAULT NULL)
RETURNS TABLE (id bigint, branch text, command_tag text, object_type text, object_identity text,
               statement text, role_name text, captured_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
    SELECT l.id, b.name, l.command_tag, l.object_type, l.object_identity,
           coalesce(s.statement, l.statement), l.role_name, l.captured_at
      FROM pggit.ddl_log l
      JOIN pggit.branches b ON b.id = l.branch_id
      LEFT JOIN pggit.ddl_log s ON s.id = l.statement_row
     WHERE l.branch_id = pggit._live_branch_id(coalesce($1, pggit.current_branch())) AND l.commit_id IS NULL
     ORDER BY l.id
$fn$;

-- The event triggers (CREATE EVENT TRIGGER has no IF NOT EXISTS; names are per database). A disabled one
-- is enabled again by `pggit init`.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pggit_capture_ddl') THEN
        CREATE EVENT TRIGGER pggit_capture_ddl ON ddl_command_end EXECUTE FUNCTION pggit._capture_ddl();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pggit_capture_drop') THEN
        CREATE EVENT TRIGGER pggit_capture_drop ON sql_drop EXECUTE FUNCTION pggit._capture_drop();
    END IF;
    ALTER EVENT TRIGGER pggit_capture_ddl ENABLE ALWAYS;
    ALTER EVENT TRIGGER pggit_capture_drop ENABLE ALWAYS;
END
$do$;
