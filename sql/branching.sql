-- branching.sql: branches as real schema copies. pggit.create_branch / delete_branch / list_branches.
-- A branch is one physical schema per tracked schema, recorded in pggit.branch_schemas; its objects are
-- recreated from the parent's snapshot with pggit._apply_plan, so foreign keys, defaults and sequences
-- point at the branch's own objects. Idempotent (CREATE OR REPLACE only).

-- Branch names, the one definition of their rules (Python asks this function, never repeats it):
-- lowercase letters, digits and . _ - /, starting with a letter or digit, no `//`, no trailing `/`, at most
-- 100 characters, not `main`. Why a name cannot name a new branch, or NULL when it can.
CREATE OR REPLACE FUNCTION pggit._branch_name_problem(p_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
BEGIN
    RETURN CASE
        WHEN p_name IS NULL OR p_name = '' THEN 'it is empty'
        WHEN length(p_name) > 100 THEN 'it is longer than 100 characters'
        WHEN p_name = 'main' THEN '`main` is the tracked schemas themselves'
        WHEN p_name !~ '^[a-z0-9]' THEN 'it must start with a lowercase letter or a digit'
        WHEN p_name ~ '[^a-z0-9._/-]' THEN 'only lowercase letters, digits and . _ - / are allowed'
        WHEN position('//' IN p_name) > 0 THEN 'it contains `//`'
        WHEN right(p_name, 1) = '/' THEN 'it ends with `/`'
        WHEN position('..' IN p_name) > 0 THEN 'it contains `..`'
    END;
END
$fn$;

-- Raise PGG30 (InvalidName in Python) when a name cannot name a new branch.
CREATE OR REPLACE FUNCTION pggit._validate_branch_name(p_name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    problem text := pggit._branch_name_problem(p_name);
BEGIN
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG30',
              MESSAGE = format('invalid branch name %L: %s', p_name, problem),
              HINT = 'use a name like agent/claude-auth-oauth2 (lowercase letters, digits, . _ - /)';
    END IF;
END
$fn$;

-- The physical schema for a branch's tracked schema: pggit_b_<branch with non [a-z0-9_] as _>
-- (+ __<schema> for tracked schemas other than public), at most 63 bytes, unique: a hash suffix is added
-- when the plain name is too long or taken.
CREATE OR REPLACE FUNCTION pggit._physical_schema_name(p_branch text, p_tracked text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
DECLARE
    base text := 'pggit_b_' || regexp_replace(p_branch, '[^a-z0-9_]', '_', 'g')
                 || CASE WHEN p_tracked = 'public' THEN ''
                         ELSE '__' || regexp_replace(lower(p_tracked), '[^a-z0-9_]', '_', 'g') END;
    candidate text := base;
BEGIN
    -- the plain name first, then up to 20 hashed ones
    FOR attempt IN 0..20 LOOP
        IF attempt > 0 THEN
            candidate := left(base, 53) || '_' || left(md5(p_branch || '/' || p_tracked || '/' || attempt), 9);
        END IF;
        IF octet_length(candidate) <= 63
           AND NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = candidate)
           AND NOT EXISTS (SELECT 1 FROM pggit.branch_schemas bs WHERE bs.physical_schema = candidate) THEN
            RETURN candidate;
        END IF;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = 'PGG41',
          MESSAGE = format('no free schema name for branch %L (schema %s)', p_branch, p_tracked),
          HINT = 'drop leftover pggit_b_* schemas that belong to no branch';
END
$fn$;

-- Sequences of the branch continue from the parent's values (named sequences and identity columns).
CREATE OR REPLACE FUNCTION pggit._copy_sequence_values(p_from bigint, p_to bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    r record;
    last_value bigint;
    is_called boolean;
BEGIN
    FOR r IN
        SELECT f.physical_schema AS from_schema, t.physical_schema AS to_schema, c.relname AS seq
          FROM pggit._branch_schemas(p_from) f
          JOIN pggit._branch_schemas(p_to) t ON t.tracked_schema = f.tracked_schema
          JOIN pg_namespace n ON n.nspname = f.physical_schema
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'S'
         WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND d.deptype IN ('i', 'e'))
    LOOP
        EXECUTE format('SELECT last_value, is_called FROM %I.%I', r.from_schema, r.seq) INTO last_value, is_called;
        PERFORM setval(format('%I.%I', r.to_schema, r.seq)::regclass, last_value, is_called);
    END LOOP;
    FOR r IN
        SELECT f.physical_schema AS from_schema, t.physical_schema AS to_schema, c.relname AS tbl, a.attname AS col
          FROM pggit._branch_schemas(p_from) f
          JOIN pggit._branch_schemas(p_to) t ON t.tracked_schema = f.tracked_schema
          JOIN pg_namespace n ON n.nspname = f.physical_schema
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p')
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attidentity <> '' AND NOT a.attisdropped
    LOOP
        EXECUTE format('SELECT last_value, is_called FROM %s',
                       pg_get_serial_sequence(format('%I.%I', r.from_schema, r.tbl), r.col)) INTO last_value, is_called;
        PERFORM setval(pg_get_serial_sequence(format('%I.%I', r.to_schema, r.tbl), r.col), last_value, is_called);
    END LOOP;
END
$fn$;

-- Copy rows of every ordinary table (partitions included) from one branch to another: all rows, or at
-- most p_row_limit per table. Run before foreign keys and triggers exist on the target; with a limit,
-- rows whose parent row was not copied are deleted afterwards (repeatedly, so chains stay consistent).
CREATE OR REPLACE FUNCTION pggit._copy_data(p_from bigint, p_to bigint, p_row_limit integer) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    r record;
    cols text;
    select_list text;
    copied bigint := 0;
    n bigint;
    deleted bigint;
    pass integer := 0;
BEGIN
    FOR r IN
        SELECT f.physical_schema AS from_schema, t.physical_schema AS to_schema, c.oid, c.relname
          FROM pggit._branch_schemas(p_from) f
          JOIN pggit._branch_schemas(p_to) t ON t.tracked_schema = f.tracked_schema
          JOIN pg_namespace n ON n.nspname = f.physical_schema
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
         WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                              AND d.deptype = 'e')
         ORDER BY c.relname
    LOOP
        -- columns of the branch's own types (enums, domains, composites) are cast through text
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
               string_agg(CASE WHEN a.atttypid = ta.atttypid THEN quote_ident(a.attname)
                               ELSE format('%I::text::%s', a.attname, format_type(ta.atttypid, ta.atttypmod)) END,
                          ', ' ORDER BY a.attnum)
          INTO cols, select_list
          FROM pg_attribute a
          JOIN pg_attribute ta ON ta.attrelid = format('%I.%I', r.to_schema, r.relname)::regclass
                              AND ta.attname = a.attname AND NOT ta.attisdropped
         WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
        IF cols IS NULL THEN
            CONTINUE;
        END IF;
        EXECUTE format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM ONLY %I.%I%s',
                       r.to_schema, r.relname, cols, select_list, r.from_schema, r.relname,
                       CASE WHEN p_row_limit IS NOT NULL THEN format(' LIMIT %s', p_row_limit) ELSE '' END);
        GET DIAGNOSTICS n = ROW_COUNT;
        copied := copied + n;
    END LOOP;
    IF p_row_limit IS NULL THEN
        RETURN copied;
    END IF;
    LOOP
        deleted := 0;
        pass := pass + 1;
        FOR r IN
            SELECT t.physical_schema AS to_schema, ch.relname AS child, pa.relname AS parent,
                   (SELECT string_agg(format('c.%I IS NOT NULL', ca.attname), ' AND ')
                      FROM unnest(con.conkey) k(attnum)
                      JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.attnum) AS not_null,
                   (SELECT string_agg(format('p.%I = c.%I', pa2.attname, ca.attname), ' AND ')
                      FROM unnest(con.conkey, con.confkey) k(ck, pk)
                      JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.ck
                      JOIN pg_attribute pa2 ON pa2.attrelid = con.confrelid AND pa2.attnum = k.pk) AS matches
              FROM pggit._branch_schemas(p_from) f
              JOIN pggit._branch_schemas(p_to) t ON t.tracked_schema = f.tracked_schema
              JOIN pg_namespace n ON n.nspname = f.physical_schema
              JOIN pg_constraint con ON con.connamespace = n.oid AND con.contype = 'f' AND con.conparentid = 0
              JOIN pg_class ch ON ch.oid = con.conrelid
              JOIN pg_class pa ON pa.oid = con.confrelid AND pa.relnamespace = n.oid
        LOOP
            EXECUTE format('DELETE FROM %I.%I c WHERE %s AND NOT EXISTS (SELECT 1 FROM %I.%I p WHERE %s)',
                           r.to_schema, r.child, r.not_null, r.to_schema, r.parent, r.matches);
            GET DIAGNOSTICS n = ROW_COUNT;
            deleted := deleted + n;
            copied := copied - n;
        END LOOP;
        EXIT WHEN deleted = 0 OR pass > 100;
    END LOOP;
    RETURN copied;
END
$fn$;

-- The document without what checks or reacts to copied rows (foreign keys, NOT VALID constraints,
-- triggers): what is created before a data copy; the rest is created after it.
CREATE OR REPLACE FUNCTION pggit._before_data_copy(doc jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT jsonb_set(doc, '{objects}', coalesce((
        SELECT jsonb_object_agg(o.key, o.value)
          FROM jsonb_each(doc->'objects') o
         WHERE NOT (o.value->>'kind' = 'trigger'
                    OR (o.value->>'kind' = 'constraint'
                        AND (o.value->>'type' = 'f' OR o.value->>'definition' LIKE '% NOT VALID')))),
        '{}'::jsonb))
$fn$;

-- Gone since version 2 (pggit._settle makes branch points): dropped from older databases.
DROP FUNCTION IF EXISTS pggit._branch_point(bigint, jsonb, text);

-- The first half of pggit.create_branch, with pggit's rights: check the name and who asks, record the branch
-- (owned by `owner`, default the invoker), create its schemas owned by that role, settle the parent's history
-- (its uncaptured changes become their own commit), and start the copy operation. Returns {"id",
-- "parent_id", "doc": the parent's document the copy must reproduce}. Agents create branches of main and of
-- their own branches; naming another owner needs a merger who may act as that role.
CREATE OR REPLACE FUNCTION pggit._branch_begin(p_name text, p_from text, p_copy_data boolean, p_row_limit integer,
                                               p_owner text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    invoker text := pggit._invoker();
    owner_name text := coalesce(p_owner, pggit._invoker());
    parent_id bigint;
    new_id bigint;
    parent_doc jsonb;
    settled record;
    t record;
    physical text;
BEGIN
    PERFORM pggit._validate_branch_name(p_name);
    IF p_row_limit IS NOT NULL AND p_row_limit < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = format('row_limit must be 0 or more, not %s', p_row_limit),
              HINT = 'pass row_limit => NULL to copy every row';
    END IF;
    IF p_row_limit IS NOT NULL AND NOT p_copy_data THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'row_limit needs copy_data => true',
              HINT = 'pass copy_data => true, or leave row_limit out';
    END IF;
    parent_id := pggit._branch_id(coalesce(p_from, 'main'));
    IF coalesce(p_from, 'main') <> 'main' THEN
        PERFORM pggit._require_branch_right(parent_id, 'branch off');
    END IF;
    IF owner_name <> invoker THEN
        PERFORM pggit._require_merger(format('create a branch owned by %s', owner_name));
        IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = owner_name) THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('role %s does not exist', owner_name),
                  HINT = 'add the agent first: SELECT pggit.add_agent(''...'')';
        END IF;
        IF NOT pg_has_role(invoker, owner_name, 'MEMBER') THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG51',
                  MESSAGE = format('role %s cannot create objects as %s', invoker, owner_name),
                  HINT = format('create the branch connected as %s, or as a superuser', owner_name);
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pggit.branches b WHERE b.name = p_name AND b.status <> 'deleted') THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG41', MESSAGE = format('branch %L already exists', p_name),
              HINT = 'choose another name, or delete it first with pggit.delete_branch';
    END IF;
    BEGIN
        INSERT INTO pggit.branches (name, parent_id, owner_role, created_by)
        VALUES (p_name, parent_id, owner_name, invoker) RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG41', MESSAGE = format('branch %L already exists', p_name),
              HINT = 'another session created it just now; choose another name';
    END;
    parent_doc := pggit._snapshot_of(parent_id);
    SELECT * INTO settled FROM pggit._settle(parent_id, parent_doc, format('branch point of %s', p_name), invoker, false) s;
    UPDATE pggit.branches b SET base_commit_id = settled.head, head_commit_id = settled.head WHERE b.id = new_id;
    -- from here on the copy operation runs: what pggit itself does for it (the grants that let the copy read
    -- main with its owner's rights, the schemas) is not history
    PERFORM pggit._op_begin(new_id, 'copy', NULL, parent_doc);
    PERFORM pggit._grant_main_read();
    FOR t IN SELECT s.tracked_schema FROM pggit._tracked_schemas() s ORDER BY s.pos LOOP
        physical := pggit._physical_schema_name(p_name, t.tracked_schema);
        EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', physical, owner_name);
        INSERT INTO pggit.branch_schemas (branch_id, tracked_schema, physical_schema, physical_oid)
        VALUES (new_id, t.tracked_schema, physical, (SELECT n.oid FROM pg_namespace n WHERE n.nspname = physical));
    END LOOP;
    RETURN jsonb_build_object('id', new_id, 'parent_id', parent_id, 'doc', parent_doc);
END
$fn$;

-- The second half, with pggit's rights: the copy must equal the parent's document recorded when the copy
-- started; then the copy operation ends.
CREATE OR REPLACE FUNCTION pggit._branch_finish(p_branch bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    op pggit.operations := pggit._op_require(p_branch, 'copy');
    copy_doc jsonb := pggit._snapshot_of(p_branch);
    differing text;
    b pggit.branches;
BEGIN
    IF copy_doc IS DISTINCT FROM op.doc THEN
        SELECT * INTO b FROM pggit.branches x WHERE x.id = p_branch;
        SELECT string_agg(DISTINCT p.object_key, ', ') INTO differing FROM pggit._plan(copy_doc, op.doc) p;
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
              MESSAGE = format('the copy of %L as branch %L differs from it (%s)',
                               (SELECT x.name FROM pggit.branches x WHERE x.id = b.parent_id), b.name,
                               coalesce(differing, pggit._differences(op.doc, copy_doc))),
              HINT = 'nothing was created; report this with the objects named above';
    END IF;
    PERFORM pggit._op_end(p_branch);
END
$fn$;

-- pggit.create_branch(name, from_branch, copy_data, row_limit, owner): a branch, a real copy of every tracked
-- schema of from_branch (optionally with data, at most row_limit rows per table). Its schemas and every
-- object in them belong to `owner` (default: the invoking role), and the copy runs with that role's rights:
-- an agent's branch is the agent's, and nothing of it runs with anyone else's privileges.
DROP FUNCTION IF EXISTS pggit.create_branch(text, text, boolean, integer);
CREATE OR REPLACE FUNCTION pggit.create_branch(name text, from_branch text DEFAULT 'main', copy_data boolean DEFAULT false,
                                               row_limit integer DEFAULT NULL, owner text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    started jsonb := pggit._branch_begin(create_branch.name, create_branch.from_branch, create_branch.copy_data,
                                         create_branch.row_limit, create_branch.owner);
    new_id bigint := (started->>'id')::bigint;
    parent_id bigint := (started->>'parent_id')::bigint;
    parent_doc jsonb := started->'doc';
    copy_doc jsonb;
    t record;
    previous_role text := current_setting('role');
BEGIN
    IF create_branch.owner IS NOT NULL AND create_branch.owner <> current_user THEN
        -- a merger creating an agent's branch: the copy is made as the agent (_branch_begin checked the right)
        PERFORM set_config('role', create_branch.owner, true);
    END IF;
    IF create_branch.copy_data THEN
        copy_doc := pggit._before_data_copy(parent_doc);
        PERFORM pggit._apply_plan(new_id, '{}'::jsonb, copy_doc);
        PERFORM pggit._copy_data(parent_id, new_id, create_branch.row_limit);
        PERFORM pggit._apply_plan(new_id, copy_doc, parent_doc);
        FOR t IN SELECT o.value->>'name' AS mv, o.value->>'schema' AS sch
                   FROM jsonb_each(parent_doc->'objects') o
                   JOIN pggit._ranks(parent_doc) r ON r.object_key = o.key
                  WHERE o.value->>'kind' = 'matview' ORDER BY r.rank LOOP
            EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I',
                           (SELECT bs.physical_schema FROM pggit.branch_schemas bs
                             WHERE bs.branch_id = new_id AND bs.tracked_schema = t.sch), t.mv);
        END LOOP;
    ELSE
        PERFORM pggit._apply_plan(new_id, '{}'::jsonb, parent_doc);
    END IF;
    PERFORM pggit._copy_sequence_values(parent_id, new_id);
    IF current_setting('role') IS DISTINCT FROM previous_role THEN
        PERFORM set_config('role', previous_role, true);
    END IF;
    PERFORM pggit._branch_finish(new_id);
    RETURN new_id;
END
$fn$;
COMMENT ON FUNCTION pggit.create_branch(text, text, boolean, integer, text) IS
    'Create a branch: a real copy of every tracked schema of from_branch (optionally with data), owned by owner (default: you)';

-- pggit.delete_branch(name, force): drop a branch's schemas and mark it deleted. Its owner or a merger;
-- refuses main, branches another session has checked out, and (unless force) unmerged or uncommitted work.
CREATE OR REPLACE FUNCTION pggit.delete_branch(name text, force boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
    branch_name text := delete_branch.name;
    b record;
    head_hash text;
    s record;
BEGIN
    IF branch_name = 'main' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50', MESSAGE = 'branch main cannot be deleted',
              HINT = 'main is the tracked schemas themselves; delete other branches only';
    END IF;
    SELECT * INTO b FROM pggit.branches x WHERE x.id = pggit._branch_id(branch_name) FOR UPDATE;
    PERFORM pggit._require_branch_right(b.id, 'delete');
    IF pggit._branch_in_use(b.id) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50',
              MESSAGE = format('branch %L is checked out by another session', branch_name),
              HINT = 'that session must run SELECT pggit.checkout(''main'') (or end) first';
    END IF;
    IF NOT force AND b.status <> 'merged' THEN
        IF b.head_commit_id IS DISTINCT FROM b.base_commit_id
           AND NOT EXISTS (SELECT 1 FROM pggit.merges m
                            WHERE m.source_branch = branch_name AND m.result = 'merged'
                              AND m.source_commit_id = b.head_commit_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG50',
                  MESSAGE = format('branch %L has commits that are not merged', branch_name),
                  HINT = 'merge it first, or pass force => true to delete it anyway';
        END IF;
        SELECT c.snapshot_hash INTO head_hash FROM pggit.commits c WHERE c.id = b.head_commit_id;
        IF EXISTS (SELECT 1 FROM pggit.ddl_log l WHERE l.branch_id = b.id AND l.commit_id IS NULL)
           OR head_hash IS DISTINCT FROM pggit.snapshot_hash(pggit._snapshot_of(b.id)) THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG50',
                  MESSAGE = format('branch %L has uncommitted schema changes', branch_name),
                  HINT = 'commit them with pggit.commit, or pass force => true to delete it anyway';
        END IF;
    END IF;
    PERFORM pggit._op_begin(b.id, 'drop');
    FOR s IN SELECT bs.physical_schema FROM pggit.branch_schemas bs WHERE bs.branch_id = b.id LOOP
        EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', s.physical_schema);
    END LOOP;
    PERFORM pggit._op_end(b.id);
    DELETE FROM pggit.branch_schemas bs WHERE bs.branch_id = b.id;
    DELETE FROM pggit.sessions x WHERE x.branch_id = b.id;
    UPDATE pggit.branches x SET status = 'deleted', deleted_at = now() WHERE x.id = b.id;
END
$fn$;
COMMENT ON FUNCTION pggit.delete_branch(text, boolean) IS
    'Delete a branch (drops its schemas); refuses main, checked-out, unmerged or uncommitted branches unless force';

DROP FUNCTION IF EXISTS pggit.list_branches();
CREATE OR REPLACE FUNCTION pggit.list_branches()
RETURNS TABLE (name text, parent text, head_commit_id bigint, status text, created_at timestamptz,
               created_by text, schemas text[], owner text)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT b.name, p.name, b.head_commit_id, b.status, b.created_at, b.created_by,
           coalesce((SELECT array_agg(s.physical_schema ORDER BY s.pos) FROM pggit._branch_schemas(b.id) s), '{}'),
           b.owner_role
      FROM pggit.branches b LEFT JOIN pggit.branches p ON p.id = b.parent_id
     WHERE b.status <> 'deleted'
     ORDER BY b.id
$fn$;
COMMENT ON FUNCTION pggit.list_branches() IS 'Live branches (active and merged) with their physical schemas and owner';
