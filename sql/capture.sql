-- capture.sql: which branch a session is on (checkout), the guard that keeps a branch's sessions off
-- every other branch and main, DDL capture into pggit.ddl_log, and pggit.commit() / pggit.log().
-- Idempotent (CREATE OR REPLACE, IF NOT EXISTS); owner of pggit.ddl_log and pggit.sessions.
--
-- Settings read here (all custom GUCs; `set_config(name, value, is_local)`):
--   pggit.branch     session-level, set by pggit.checkout(): the branch this session is on ('' = main).
--   pggit.internal   switch for pggit's own operations. Best as a SET clause of the function doing the
--                    DDL (`CREATE OR REPLACE FUNCTION pggit.create_branch(...) ... SET pggit.internal = 'on'`),
--                    which PostgreSQL restores when the function returns. A `set_config('pggit.internal',
--                    'on', true)` instead lasts to the END OF THE TRANSACTION: in a multi-statement string
--                    (psql -c "SELECT pggit.create_branch('a'); ALTER TABLE public.users ...") it would
--                    exempt the user's statements after it too, so restore it before returning. Values:
--                      'on'      the guard is bypassed and nothing is captured (create_branch copying
--                                objects into a new branch, delete_branch dropping its schemas);
--                      'capture' the guard is bypassed but DDL is still captured, attributed by schema
--                                (merge applying statements to main, so the merge commit groups them).
--   pggit.statement  optional: the statement text to record instead of current_query() (which inside a
--                    pggit function is the outer `SELECT pggit.x(...)`). Set it (is_local = true) before
--                    each EXECUTE when pggit.internal = 'capture', and clear it ('') afterwards.
--
-- pggit.ddl_log rows: one per DDL command and branch (not one per object the command touched; the
-- objects are listed in `objects`). A client message holding several statements ("ALTER ...; CREATE
-- ...") is one current_query(): its text is stored once per transaction and branch, on the first row;
-- later rows of the same message have statement = '' and statement_row = the id of the row holding the
-- text. pggit._commit_statements(commit_id) returns a commit's statements in order without repeats.
-- Note: a message is recorded as sent, so it may contain non-DDL parts (SELECT pggit.checkout(...); ...).
--
-- Limits of what PostgreSQL reports to event triggers: GRANT/REVOKE name no object, so they are
-- attributed to the session's branch and the guard cannot check them; an object is judged by the
-- schema it is in after the command, so `ALTER TABLE public.t SET SCHEMA <branch schema>` and
-- renaming a tracked schema slip past the guard; shared objects (roles, databases, tablespaces) are
-- never captured. Event triggers need a superuser to install.

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

-- ddl_log columns owned by this file (see the header).
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS objects jsonb NOT NULL DEFAULT '[]';
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS statement_row bigint REFERENCES pggit.ddl_log (id);
ALTER TABLE pggit.ddl_log ADD COLUMN IF NOT EXISTS session_branch text;
COMMENT ON COLUMN pggit.ddl_log.objects IS
    'every object the command touched: [{"action": "ddl"|"drop", "type", "schema", "identity", "tracked_schema"}]';
COMMENT ON COLUMN pggit.ddl_log.statement_row IS
    'NULL when this row holds the statement text; else the row (same transaction, same message) that does';
COMMENT ON COLUMN pggit.ddl_log.session_branch IS 'the branch the session was checked out to when it ran the DDL';

-- The branch a session is on: the pggit.branch setting, 'main' when unset.
CREATE OR REPLACE FUNCTION pggit.current_branch() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(nullif(current_setting('pggit.branch', true), ''), 'main')
$fn$;

-- The calling role, also inside SECURITY DEFINER functions (where current_user is the owner).
CREATE OR REPLACE FUNCTION pggit._invoker() RETURNS text
LANGUAGE sql STABLE AS $fn$
    SELECT CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END
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

-- pggit.checkout(branch): point this session's search_path at the branch's physical schemas (in the
-- order of the tracked_schemas setting) plus pggit (plus public for main), set pggit.branch, and record
-- the checkout in pggit.sessions. Returns the search_path it set. Session-level: it lasts until the
-- next checkout or the end of the session (or is undone with the transaction if that rolls back).
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

    my_start := (SELECT a.backend_start FROM pg_stat_get_activity(pg_backend_pid()) a);
    -- Prune the rows of sessions that ended (one pruner at a time; the others skip it).
    IF pg_try_advisory_xact_lock(1885825396, 1) THEN
        DELETE FROM pggit.sessions s
         WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a
                            WHERE a.pid = s.pid AND a.backend_start = s.backend_start);
    END IF;
    INSERT INTO pggit.sessions AS s (pid, backend_start, branch_id, role_name)
    VALUES (pg_backend_pid(), my_start, target_id, pggit._invoker())
    ON CONFLICT (pid, backend_start) DO UPDATE
       SET branch_id = EXCLUDED.branch_id, role_name = EXCLUDED.role_name, checked_out_at = now();

    -- Session-level (is_local = false): a plain SET outlives this function's own SET clause.
    PERFORM pg_catalog.set_config('pggit.branch', CASE WHEN branch = 'main' THEN '' ELSE branch END, false);
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
CREATE OR REPLACE FUNCTION pggit._guard_refuse(session_branch text, command_tag text, object_type text,
                                               object_identity text, owner_branch text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'PGG50',
        MESSAGE = format('this session is checked out to branch %L: %s may not change %s %s, which belongs to %s',
                         session_branch, command_tag, object_type, object_identity,
                         CASE WHEN owner_branch = 'main' THEN 'main' ELSE format('branch %L', owner_branch) END),
        HINT = CASE WHEN owner_branch = 'main'
                    THEN 'change main only after SELECT pggit.checkout(''main''), or use unqualified names to change the branch''s own copy'
                    ELSE format('SELECT pggit.checkout(%L) first to work on that branch', owner_branch) END;
END
$fn$;

-- sql_drop: guard the dropped objects, then hand them to the ddl_command_end capture of the same
-- command (through the transaction-local setting pggit._dropped) so one command is one log row.
CREATE OR REPLACE FUNCTION pggit._capture_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    session_branch text;
    dropped jsonb;
    bad record;
BEGIN
    IF current_setting('pggit.internal', true) = 'on' THEN
        RETURN;
    END IF;
    session_branch := coalesce(nullif(current_setting('pggit.branch', true), ''), 'main');
    SELECT jsonb_agg(jsonb_build_object('type', d.object_type, 'schema', d.owner_schema,
                                        'identity', d.object_identity, 'original', d.original))
      INTO dropped
      FROM (SELECT o.object_type, o.object_identity, o.original,
                   CASE WHEN o.object_type = 'schema' THEN o.object_name ELSE o.schema_name END AS owner_schema
              FROM pg_event_trigger_dropped_objects() AS o
             WHERE (o.original OR o.normal) AND NOT o.is_temporary) d
     WHERE d.owner_schema IS NOT NULL AND d.owner_schema <> 'pggit';
    IF dropped IS NULL THEN
        RETURN;
    END IF;
    IF session_branch <> 'main' AND current_setting('pggit.internal', true) IS DISTINCT FROM 'capture' THEN
        SELECT x->>'type' AS object_type, x->>'identity' AS object_identity, b.name AS owner
          INTO bad
          FROM jsonb_array_elements(dropped) AS x
          JOIN pggit.branch_schemas bs ON bs.physical_schema = x->>'schema'
          JOIN pggit.branches b ON b.id = bs.branch_id
         WHERE b.name <> session_branch
         LIMIT 1;
        IF FOUND THEN
            PERFORM pggit._guard_refuse(session_branch, tg_tag, bad.object_type, bad.object_identity, bad.owner);
        END IF;
    END IF;
    PERFORM set_config('pggit._dropped',
                       (coalesce(nullif(current_setting('pggit._dropped', true), ''), '[]')::jsonb || dropped)::text,
                       true);
END
$fn$;

-- ddl_command_end: guard what the command created or altered, then record one row per branch touched.
-- A plain loop (no sorts, no aggregates): most commands touch one to four objects of one branch.
CREATE OR REPLACE FUNCTION pggit._capture_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    mode text := current_setting('pggit.internal', true);
    dropped_text text;
    session_branch text;
    session_branch_id bigint;
    session_looked_up boolean := false;
    c record;
    bid bigint;
    tracked text;
    last_owner text;
    last_bid bigint;
    last_tracked text;
    obj jsonb;
    k integer;
    -- One entry per branch touched, in first-seen order: its objects and its primary object.
    bids bigint[] := '{}';
    objs jsonb[] := '{}';
    prim_type text[] := '{}';
    prim_schema text[] := '{}';
    prim_identity text[] := '{}';
    prim_best boolean[] := '{}';
    owner_name text;
    stmt text;
    msg_key text;
    text_row bigint;
    new_id bigint;
BEGIN
    IF mode = 'on' THEN
        RETURN;
    END IF;
    dropped_text := nullif(current_setting('pggit._dropped', true), '');
    IF dropped_text IS NOT NULL THEN
        PERFORM set_config('pggit._dropped', '', true);
    END IF;
    session_branch := coalesce(nullif(current_setting('pggit.branch', true), ''), 'main');

    FOR c IN
        SELECT 'drop' AS action, x->>'type' AS object_type, x->>'identity' AS object_identity,
               (x->>'original')::boolean AS best, x->>'schema' AS owner_schema
          FROM jsonb_array_elements(dropped_text::jsonb) AS x
        UNION ALL
        SELECT 'ddl', d.object_type, d.object_identity, d.command_tag = tg_tag,
               CASE WHEN d.object_type = 'schema'
                    THEN (SELECT n.nspname::text FROM pg_namespace n WHERE n.oid = d.objid)
                    ELSE d.schema_name END
          FROM pg_event_trigger_ddl_commands() AS d
    LOOP
        IF c.owner_schema = 'pggit' OR c.owner_schema ~ '^pg_(toast_)?temp_' THEN
            CONTINUE;
        END IF;
        IF c.owner_schema IS NULL THEN
            -- Objects outside schemas are not versioned; GRANT/REVOKE name no object: the session's branch.
            IF c.object_identity IS NOT NULL THEN
                CONTINUE;
            END IF;
            IF NOT session_looked_up THEN
                SELECT b.id INTO session_branch_id FROM pggit.branches b
                 WHERE b.name = session_branch AND b.status <> 'deleted';
                session_looked_up := true;
            END IF;
            bid := session_branch_id;
            tracked := NULL;
        ELSE
            IF c.owner_schema IS DISTINCT FROM last_owner THEN
                last_bid := NULL;
                last_tracked := NULL;
                SELECT bs.branch_id, bs.tracked_schema INTO last_bid, last_tracked
                  FROM pggit.branch_schemas bs WHERE bs.physical_schema = c.owner_schema;
                last_owner := c.owner_schema;
            END IF;
            bid := last_bid;
            tracked := last_tracked;
        END IF;
        IF bid IS NULL THEN
            CONTINUE;
        END IF;
        obj := jsonb_build_object('action', c.action, 'type', c.object_type, 'schema', c.owner_schema,
                                  'identity', c.object_identity, 'tracked_schema', tracked);
        k := array_position(bids, bid);
        IF k IS NULL THEN
            bids := bids || bid;
            k := cardinality(bids);
            objs[k] := jsonb_build_array(obj);
            prim_type[k] := c.object_type;
            prim_schema[k] := c.owner_schema;
            prim_identity[k] := c.object_identity;
            prim_best[k] := coalesce(c.best, false);
        ELSIF NOT objs[k] @> jsonb_build_array(obj) THEN
            objs[k] := objs[k] || obj;
            IF coalesce(c.best, false) AND NOT prim_best[k] THEN
                prim_type[k] := c.object_type;
                prim_schema[k] := c.owner_schema;
                prim_identity[k] := c.object_identity;
                prim_best[k] := true;
            END IF;
        END IF;
    END LOOP;

    FOR k IN 1 .. cardinality(bids) LOOP
        IF session_branch <> 'main' AND mode IS DISTINCT FROM 'capture' THEN
            SELECT b.name INTO owner_name FROM pggit.branches b WHERE b.id = bids[k];
            IF owner_name IS DISTINCT FROM session_branch THEN
                PERFORM pggit._guard_refuse(session_branch, tg_tag, prim_type[k], prim_identity[k], owner_name);
            END IF;
        END IF;
        IF stmt IS NULL THEN
            stmt := coalesce(nullif(current_setting('pggit.statement', true), ''), current_query(), tg_tag);
        END IF;
        -- One client message (same statement start, same text) in this transaction: store its text once.
        msg_key := extract(epoch FROM statement_timestamp())::text || ':' || bids[k] || ':' || stmt;
        text_row := NULL;
        IF current_setting('pggit._capture_key', true) = msg_key THEN
            text_row := nullif(current_setting('pggit._capture_row', true), '')::bigint;
        END IF;
        INSERT INTO pggit.ddl_log (branch_id, command_tag, object_type, schema_name, object_identity, statement,
                                   role_name, objects, statement_row, session_branch)
        VALUES (bids[k], tg_tag, prim_type[k], prim_schema[k], prim_identity[k],
                CASE WHEN text_row IS NULL THEN stmt ELSE '' END,
                pggit._invoker(), objs[k], text_row, session_branch)
        RETURNING id INTO new_id;
        IF text_row IS NULL THEN
            PERFORM set_config('pggit._capture_key', msg_key, true);
            PERFORM set_config('pggit._capture_row', new_id::text, true);
        END IF;
    END LOOP;
END
$fn$;

-- The statements of a commit, in the order they ran, each client message once.
CREATE OR REPLACE FUNCTION pggit._commit_statements(commit_id bigint) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pggit AS $fn$
    SELECT coalesce(array_agg(l.statement ORDER BY l.id), '{}')
      FROM pggit.ddl_log l
     WHERE l.commit_id = $1 AND l.statement_row IS NULL
$fn$;

-- pggit.commit(message, author): commit the session's branch (see pggit.checkout): snapshot it and
-- group its captured, uncommitted DDL into a new commit. Returns the commit id.
CREATE OR REPLACE FUNCTION pggit.commit(message text, author text DEFAULT current_user) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    branch_name text := pggit.current_branch();
    target_id bigint;
BEGIN
    IF message IS NULL OR btrim(message) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'the commit message is empty',
            HINT = 'say what changed: SELECT pggit.commit(''add users.oauth_provider'')';
    END IF;
    IF author IS NULL OR btrim(author) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'the commit author is empty',
            HINT = 'leave author out (it defaults to the current role) or name who made the change';
    END IF;
    target_id := pggit._live_branch_id(branch_name);
    -- One commit at a time per branch: parent = head must not race.
    PERFORM 1 FROM pggit.branches WHERE id = target_id FOR UPDATE;
    RETURN pggit._record_commit(target_id, message, author);
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
-- NULL: the session's branch). Each command shows its full statement text.
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

-- Internal functions are the owner's only.
REVOKE ALL ON FUNCTION pggit._invoker(), pggit._live_branch_id(text), pggit._branch_in_use(bigint),
    pggit._guard_refuse(text, text, text, text, text), pggit._capture_drop(), pggit._capture_ddl(),
    pggit._commit_statements(bigint), pggit._log_branch_id(text), pggit._check_log_limit(integer) FROM PUBLIC;

-- The event triggers (CREATE EVENT TRIGGER has no IF NOT EXISTS; names are per database).
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pggit_capture_ddl') THEN
        CREATE EVENT TRIGGER pggit_capture_ddl ON ddl_command_end EXECUTE FUNCTION pggit._capture_ddl();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pggit_capture_drop') THEN
        CREATE EVENT TRIGGER pggit_capture_drop ON sql_drop EXECUTE FUNCTION pggit._capture_drop();
    END IF;
END
$do$;
