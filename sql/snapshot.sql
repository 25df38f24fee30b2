-- snapshot.sql: the catalog reader. pggit.snapshot(branch) -> one jsonb document per branch (format in
-- docs/snapshot-format.md), its hash, storing documents once, and recording a commit of a branch.
-- Idempotent (CREATE OR REPLACE only).

-- The live branch row id for a name; PGG40 when there is none.
CREATE OR REPLACE FUNCTION pggit._branch_id(p_name text) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
DECLARE
    found_id bigint;
BEGIN
    SELECT b.id INTO found_id FROM pggit.branches b WHERE b.name = p_name AND b.status <> 'deleted';
    IF found_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('branch %L does not exist', p_name),
              HINT = 'list branches with SELECT * FROM pggit.list_branches()';
    END IF;
    RETURN found_id;
END
$fn$;

-- The tracked schemas, in the order of the `tracked_schemas` setting.
CREATE OR REPLACE FUNCTION pggit._tracked_schemas() RETURNS TABLE (tracked_schema text, pos bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT s.name, s.pos
      FROM pggit.settings st,
           jsonb_array_elements_text(st.value) WITH ORDINALITY AS s(name, pos)
     WHERE st.key = 'tracked_schemas'
$fn$;

-- A branch's physical schemas, in tracked order.
CREATE OR REPLACE FUNCTION pggit._branch_schemas(p_branch_id bigint)
RETURNS TABLE (tracked_schema text, physical_schema text, pos bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT bs.tracked_schema, bs.physical_schema, coalesce(t.pos, 1000000)
      FROM pggit.branch_schemas bs
      LEFT JOIN pggit._tracked_schemas() t ON t.tracked_schema = bs.tracked_schema
     WHERE bs.branch_id = p_branch_id
     ORDER BY 3, 1
$fn$;

-- The search_path value that makes a branch's objects print unqualified (quoted schema names): the
-- branch's physical schemas (p_first_tracked's first), then main's schemas, so that objects of extensions
-- installed in a tracked schema (citext, pgcrypto, ...) resolve the same way on every branch.
CREATE OR REPLACE FUNCTION pggit._search_path_for(p_branch_id bigint, p_first_tracked text DEFAULT NULL)
RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT coalesce(string_agg(quote_ident(x.physical_schema), ', ' ORDER BY x.grp, x.first, x.pos), '')
      FROM (SELECT s.physical_schema, 0 AS grp, (s.tracked_schema IS DISTINCT FROM p_first_tracked) AS first, s.pos
              FROM pggit._branch_schemas(p_branch_id) s
            UNION ALL
            SELECT m.physical_schema, 1, true, m.pos
              FROM pggit._branch_schemas((SELECT b.id FROM pggit.branches b
                                           WHERE b.name = 'main' AND b.status <> 'deleted')) m
             WHERE NOT EXISTS (SELECT 1 FROM pggit.branch_schemas o
                                WHERE o.branch_id = p_branch_id AND o.physical_schema = m.physical_schema)) x
$fn$;

-- Grants as a sorted list `grantee:PRIVILEGE[*]`, owner and pggit's roles left out, NULL acl read as the
-- kind's default.
-- (No SET clause, so that it is inlined into the snapshot query; it names pg_catalog objects only.)
CREATE OR REPLACE FUNCTION pggit._acl(p_acl aclitem[], p_owner oid, p_kind "char") RETURNS jsonb
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(jsonb_agg(g.item ORDER BY g.item), '[]'::jsonb)
      FROM (SELECT DISTINCT
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END
                   || ':' || a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END AS item
              FROM aclexplode(coalesce(p_acl, acldefault(p_kind, p_owner))) a
             WHERE a.grantee <> p_owner
               -- pggit's own roles read main (grants.sql): not part of the schema
               AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) NOT IN ('pggit_agent', 'pggit_merger'))) g
$fn$;

-- The snapshot document of a branch, read from the live catalog with a branch-relative search_path.
-- The SET clause restores the caller's search_path when the function returns.
CREATE OR REPLACE FUNCTION pggit._snapshot_of(p_branch_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    doc jsonb;
BEGIN
    PERFORM set_config('search_path', pggit._search_path_for(p_branch_id), true);
    WITH sch AS (
        SELECT n.oid AS nsp, s.tracked_schema AS tracked
          FROM pggit._branch_schemas(p_branch_id) s
          JOIN pg_namespace n ON n.nspname = s.physical_schema
    ),
    extmembers AS (
        SELECT d.classid, d.objid FROM pg_depend d WHERE d.deptype = 'e'
    ),
    rels AS (
        SELECT c.oid, c.relname::text AS relname, c.relkind, s.tracked, c.relowner, c.relacl,
               c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
               c.relpartbound, c.reloptions
          FROM pg_class c JOIN sch s ON s.nsp = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c')
           AND NOT EXISTS (SELECT 1 FROM extmembers e
                            WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
           AND NOT (c.relkind = 'S' AND EXISTS (
                   SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i'))
    ),
    relkeys AS (
        SELECT r.*, CASE r.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                                   WHEN 'm' THEN 'matview' WHEN 'S' THEN 'sequence' ELSE 'composite' END
                    || ':' || r.tracked || '.' || r.relname AS key
          FROM rels r
    ),
    cons AS (
        SELECT con.oid, con.conname::text AS conname, con.contype, con.conindid, con.conrelid,
               r.relname, r.tracked, 'constraint:' || r.tracked || '.' || r.relname || '.' || con.conname AS key
          FROM pg_constraint con JOIN relkeys r ON r.oid = con.conrelid
         WHERE r.relkind IN ('r', 'p') AND con.contype IN ('p', 'u', 'c', 'f', 'x')
           AND con.conparentid = 0 AND con.conislocal
    ),
    idx AS (
        SELECT i.indexrelid AS oid, ic.relname::text AS relname, ic.relkind, i.indrelid, r.relname AS tablename, r.tracked,
               'index:' || r.tracked || '.' || ic.relname AS key
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
          JOIN relkeys r ON r.oid = i.indrelid
         WHERE r.relkind IN ('r', 'p', 'm') AND NOT ic.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c2
                            WHERE c2.conindid = i.indexrelid AND c2.conrelid = i.indrelid
                              AND c2.contype IN ('p', 'u', 'x'))
    ),
    typs AS (
        SELECT t.oid, t.typname::text AS typname, t.typtype, t.typowner, t.typacl, t.typrelid, t.typbasetype,
               t.typtypmod, t.typnotnull, t.typdefaultbin, t.typcollation, t.typarray, s.tracked,
               CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'composite' END
               || ':' || s.tracked || '.' || t.typname AS key
          FROM pg_type t JOIN sch s ON s.nsp = t.typnamespace
         WHERE (t.typtype IN ('e', 'd')
                OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
           AND NOT EXISTS (SELECT 1 FROM extmembers e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
    ),
    procs AS (
        SELECT p.oid, p.proname::text AS proname, p.prokind, s.tracked,
               pg_get_function_identity_arguments(p.oid) AS identity_args,
               CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END || ':' || s.tracked || '.'
               || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' AS key
          FROM pg_proc p JOIN sch s ON s.nsp = p.pronamespace
         WHERE p.prokind IN ('f', 'p')
           AND NOT EXISTS (SELECT 1 FROM extmembers e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
    ),
    trigs AS (
        SELECT tg.oid, tg.tgname::text AS tgname, tg.tgrelid, tg.tgenabled, r.relname, r.tracked,
               'trigger:' || r.tracked || '.' || r.relname || '.' || tg.tgname AS key
          FROM pg_trigger tg JOIN relkeys r ON r.oid = tg.tgrelid
         WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
    ),
    pols AS (
        SELECT po.oid, po.polname::text AS polname, po.polrelid, po.polcmd, po.polpermissive, po.polroles,
               po.polqual, po.polwithcheck, r.relname, r.tracked,
               'policy:' || r.tracked || '.' || r.relname || '.' || po.polname AS key
          FROM pg_policy po JOIN relkeys r ON r.oid = po.polrelid
    ),
    -- (catalog, oid) -> object key, for every catalog row that belongs to an object.
    keymap AS (
        SELECT 'pg_class'::regclass::oid AS classid, r.oid AS objid, r.key,
               CASE WHEN r.relkind IN ('r', 'p', 'v', 'm') THEN 'column:' || r.tracked || '.' || r.relname END
                   AS colprefix
          FROM relkeys r
        UNION ALL SELECT 'pg_class'::regclass, i.oid, i.key, NULL FROM idx i
        UNION ALL SELECT 'pg_class'::regclass, c.conindid, c.key, NULL FROM cons c WHERE c.contype IN ('p', 'u', 'x')
        UNION ALL SELECT 'pg_constraint'::regclass, c.oid, c.key, NULL FROM cons c
        UNION ALL SELECT 'pg_constraint'::regclass, dc.oid, t.key, NULL
                    FROM pg_constraint dc JOIN typs t ON t.oid = dc.contypid
        UNION ALL SELECT 'pg_attrdef'::regclass, ad.oid, r.key, NULL
                    FROM pg_attrdef ad JOIN relkeys r ON r.oid = ad.adrelid
        UNION ALL SELECT 'pg_rewrite'::regclass, rw.oid, r.key, NULL
                    FROM pg_rewrite rw JOIN relkeys r ON r.oid = rw.ev_class WHERE r.relkind IN ('v', 'm')
        UNION ALL SELECT 'pg_trigger'::regclass, t.oid, t.key, NULL FROM trigs t
        UNION ALL SELECT 'pg_policy'::regclass, p.oid, p.key, NULL FROM pols p
        UNION ALL SELECT 'pg_proc'::regclass, p.oid, p.key, NULL FROM procs p
        UNION ALL SELECT 'pg_type'::regclass, t.oid, t.key, NULL FROM typs t
        UNION ALL SELECT 'pg_type'::regclass, t.typarray, t.key, NULL FROM typs t WHERE t.typarray <> 0
        UNION ALL SELECT 'pg_type'::regclass, rt.oid, r.key, NULL
                    FROM relkeys r JOIN pg_type rt ON rt.typrelid = r.oid AND r.relkind <> 'c'
        UNION ALL SELECT 'pg_type'::regclass, rt.typarray, r.key, NULL
                    FROM relkeys r JOIN pg_type rt ON rt.typrelid = r.oid AND r.relkind <> 'c' AND rt.typarray <> 0
        UNION ALL SELECT 'pg_class'::regclass, t.typrelid, t.key, NULL FROM typs t WHERE t.typtype = 'c'
    ),
    refs AS (
        SELECT km.key, CASE WHEN d.refobjsubid > 0 AND rk.colprefix IS NOT NULL
                            THEN rk.colprefix || '.' || a.attname END AS colref, rk.key AS ref
          FROM pg_depend d
          JOIN keymap km ON km.classid = d.classid AND km.objid = d.objid
          JOIN keymap rk ON rk.classid = d.refclassid AND rk.objid = d.refobjid
          LEFT JOIN pg_attribute a ON d.refobjsubid > 0 AND d.refclassid = 'pg_class'::regclass
                                  AND a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.deptype IN ('n', 'a') AND rk.key <> km.key
           AND NOT (km.key LIKE 'sequence:%' AND d.deptype = 'a')
    ),
    deps AS (
        SELECT x.key, jsonb_agg(x.ref ORDER BY x.ref) AS deps
          FROM (SELECT r.key, r.ref FROM refs r
                UNION SELECT r.key, r.colref FROM refs r WHERE r.colref IS NOT NULL) x
         GROUP BY x.key
    ),
    objects AS (
        -- tables
        SELECT r.key, jsonb_build_object(
                   'kind', 'table', 'schema', r.tracked, 'name', r.relname,
                   'columns', coalesce((
                       SELECT jsonb_object_agg(a.attname, jsonb_build_object(
                                  'type', format_type(a.atttypid, a.atttypmod),
                                  'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                                                    THEN (SELECT quote_ident(co.collname) FROM pg_collation co
                                                           WHERE co.oid = a.attcollation) END,
                                  'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid, true) END,
                                  'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid, true) END,
                                  'not_null', a.attnotnull,
                                  'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
                                  'identity_options', CASE WHEN a.attidentity <> '' THEN (
                                      SELECT jsonb_build_object('start', sq.seqstart::text, 'increment', sq.seqincrement::text,
                                                                'min', sq.seqmin::text, 'max', sq.seqmax::text,
                                                                'cache', sq.seqcache::text, 'cycle', sq.seqcycle)
                                        FROM pg_depend d JOIN pg_sequence sq ON sq.seqrelid = d.objid
                                       WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                                         AND d.refobjid = r.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
                                       LIMIT 1) END,
                                  'grants', pggit._acl(a.attacl, r.relowner, 'c'),
                                  'comment', col_description(r.oid, a.attnum)))
                         FROM pg_attribute a
                         JOIN pg_type t ON t.oid = a.atttypid
                         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                        WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'::jsonb),
                   'column_order', coalesce((
                       SELECT jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                        WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::jsonb),
                   'persistence', CASE r.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END,
                   'rls_enabled', r.relrowsecurity, 'rls_forced', r.relforcerowsecurity,
                   'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
                   'partition_of', (SELECT pc.relname FROM pg_inherits ih JOIN pg_class pc ON pc.oid = ih.inhparent
                                     WHERE ih.inhrelid = r.oid AND r.relispartition),
                   'partition_bound', CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid, true) END,
                   'grants', pggit._acl(r.relacl, r.relowner, 'r'),
                   'comment', obj_description(r.oid, 'pg_class')) AS obj
          FROM relkeys r WHERE r.relkind IN ('r', 'p')
        UNION ALL
        -- views and materialized views
        SELECT r.key, jsonb_build_object(
                   'kind', CASE r.relkind WHEN 'v' THEN 'view' ELSE 'matview' END,
                   'schema', r.tracked, 'name', r.relname,
                   'definition', pg_get_viewdef(r.oid, true),
                   'columns', coalesce((
                       SELECT jsonb_agg(jsonb_build_object('name', a.attname,
                                                           'type', format_type(a.atttypid, a.atttypmod))
                                        ORDER BY a.attnum)
                         FROM pg_attribute a
                        WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::jsonb),
                   'options', coalesce((SELECT jsonb_agg(o ORDER BY o) FROM unnest(r.reloptions) o), '[]'::jsonb),
                   'grants', pggit._acl(r.relacl, r.relowner, 'r'),
                   'comment', obj_description(r.oid, 'pg_class'))
          FROM relkeys r WHERE r.relkind IN ('v', 'm')
        UNION ALL
        -- sequences (identity sequences are left out above)
        SELECT r.key, jsonb_build_object(
                   'kind', 'sequence', 'schema', r.tracked, 'name', r.relname,
                   'type', format_type(sq.seqtypid, NULL),
                   'start', sq.seqstart::text, 'increment', sq.seqincrement::text,
                   'min', sq.seqmin::text, 'max', sq.seqmax::text, 'cache', sq.seqcache::text,
                   'cycle', sq.seqcycle,
                   'owned_by', (SELECT oc.relname || '.' || oa.attname
                                  FROM pg_depend d
                                  JOIN pg_class oc ON oc.oid = d.refobjid
                                  JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
                                 WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                                   AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
                                   AND d.refobjsubid > 0
                                 LIMIT 1),
                   'grants', pggit._acl(r.relacl, r.relowner, 's'),
                   'comment', obj_description(r.oid, 'pg_class'))
          FROM relkeys r JOIN pg_sequence sq ON sq.seqrelid = r.oid
         WHERE r.relkind = 'S'
        UNION ALL
        -- composite types
        SELECT t.key, jsonb_build_object(
                   'kind', 'composite', 'schema', t.tracked, 'name', t.typname,
                   'attributes', coalesce((
                       SELECT jsonb_agg(jsonb_build_object(
                                  'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                  'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation
                                                    THEN (SELECT quote_ident(co.collname) FROM pg_collation co
                                                           WHERE co.oid = a.attcollation) END)
                              ORDER BY a.attnum)
                         FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '[]'::jsonb),
                   'grants', pggit._acl(t.typacl, t.typowner, 'T'),
                   'comment', obj_description(t.oid, 'pg_type'))
          FROM typs t WHERE t.typtype = 'c'
        UNION ALL
        -- enums
        SELECT t.key, jsonb_build_object(
                   'kind', 'enum', 'schema', t.tracked, 'name', t.typname,
                   'values', coalesce((SELECT jsonb_agg(e.enumlabel ORDER BY e.enumsortorder)
                                         FROM pg_enum e WHERE e.enumtypid = t.oid), '[]'::jsonb),
                   'grants', pggit._acl(t.typacl, t.typowner, 'T'),
                   'comment', obj_description(t.oid, 'pg_type'))
          FROM typs t WHERE t.typtype = 'e'
        UNION ALL
        -- domains
        SELECT t.key, jsonb_build_object(
                   'kind', 'domain', 'schema', t.tracked, 'name', t.typname,
                   'type', format_type(t.typbasetype, t.typtypmod),
                   'collation', CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation
                                     THEN (SELECT quote_ident(co.collname) FROM pg_collation co
                                            WHERE co.oid = t.typcollation) END,
                   'default', pg_get_expr(t.typdefaultbin, 0, true),
                   'not_null', t.typnotnull,
                   'checks', coalesce((SELECT jsonb_object_agg(dc.conname, pg_get_constraintdef(dc.oid, true))
                                         FROM pg_constraint dc WHERE dc.contypid = t.oid AND dc.contype = 'c'),
                                      '{}'::jsonb),
                   'grants', pggit._acl(t.typacl, t.typowner, 'T'),
                   'comment', obj_description(t.oid, 'pg_type'))
          FROM typs t JOIN pg_type bt ON bt.oid = t.typbasetype
         WHERE t.typtype = 'd'
        UNION ALL
        -- functions and procedures
        SELECT pr.key, jsonb_build_object(
                   'kind', CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
                   'schema', pr.tracked, 'name', pr.proname,
                   'args', pg_get_function_arguments(p.oid),
                   'identity_args', pr.identity_args,
                   'result', CASE WHEN p.prokind = 'f' THEN pg_get_function_result(p.oid) END,
                   'language', l.lanname,
                   'body', CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END,
                   'body_kind', CASE WHEN p.prosqlbody IS NOT NULL THEN 'sql' ELSE 'source' END,
                   'volatility', p.provolatile, 'strict', p.proisstrict,
                   'security_definer', p.prosecdef, 'leakproof', p.proleakproof,
                   'parallel', p.proparallel, 'cost', p.procost::text, 'rows', p.prorows::text,
                   'config', coalesce((SELECT jsonb_agg(c ORDER BY c) FROM unnest(p.proconfig) c), '[]'::jsonb),
                   'grants', pggit._acl(p.proacl, p.proowner, 'f'),
                   'comment', obj_description(p.oid, 'pg_proc'))
          FROM procs pr JOIN pg_proc p ON p.oid = pr.oid JOIN pg_language l ON l.oid = p.prolang
        UNION ALL
        -- constraints
        SELECT c.key, jsonb_build_object(
                   'kind', 'constraint', 'schema', c.tracked, 'name', c.conname, 'table', c.relname,
                   'type', c.contype, 'definition', pg_get_constraintdef(c.oid, true),
                   'comment', obj_description(c.oid, 'pg_constraint'))
          FROM cons c
        UNION ALL
        -- indexes
        SELECT i.key, jsonb_build_object(
                   'kind', 'index', 'schema', i.tracked, 'name', i.relname, 'table', i.tablename,
                   'definition', CASE WHEN i.relkind = 'I'
                                      THEN replace(pg_get_indexdef(i.oid, 0, true),
                                                   ' ON ONLY ' || quote_ident(i.tablename) || ' USING ',
                                                   ' ON ' || quote_ident(i.tablename) || ' USING ')
                                      ELSE pg_get_indexdef(i.oid, 0, true) END,
                   'comment', obj_description(i.oid, 'pg_class'))
          FROM idx i
        UNION ALL
        -- triggers
        SELECT t.key, jsonb_build_object(
                   'kind', 'trigger', 'schema', t.tracked, 'name', t.tgname, 'table', t.relname,
                   'definition', pg_get_triggerdef(t.oid, true), 'enabled', t.tgenabled,
                   'comment', obj_description(t.oid, 'pg_trigger'))
          FROM trigs t
        UNION ALL
        -- row-level security policies
        SELECT p.key, jsonb_build_object(
                   'kind', 'policy', 'schema', p.tracked, 'name', p.polname, 'table', p.relname,
                   'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                   'permissive', p.polpermissive,
                   'roles', (SELECT jsonb_agg(x.r ORDER BY x.r)
                               FROM (SELECT CASE WHEN ro = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(ro)::text END AS r
                                       FROM unnest(p.polroles) ro) x),
                   'using', pg_get_expr(p.polqual, p.polrelid, true),
                   'with_check', pg_get_expr(p.polwithcheck, p.polrelid, true),
                   'comment', obj_description(p.oid, 'pg_policy'))
          FROM pols p
    )
    SELECT jsonb_build_object(
               'format', 1,
               'objects', coalesce(jsonb_object_agg(o.key, o.obj || jsonb_build_object('deps', coalesce(d.deps, '[]'::jsonb))),
                                   '{}'::jsonb))
      INTO doc
      FROM objects o LEFT JOIN deps d ON d.key = o.key;
    RETURN doc;
END
$fn$;

CREATE OR REPLACE FUNCTION pggit.snapshot(branch text DEFAULT 'main') RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT pggit._snapshot_of(pggit._branch_id(branch))
$fn$;
COMMENT ON FUNCTION pggit.snapshot(text) IS
    'The schema of a branch as one jsonb document (format: docs/snapshot-format.md)';

CREATE OR REPLACE FUNCTION pggit.snapshot_hash(doc jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog AS $fn$
    SELECT encode(sha256(convert_to(doc::text, 'UTF8')), 'hex')
$fn$;

-- Store a document once; its hash.
CREATE OR REPLACE FUNCTION pggit._store_snapshot(doc jsonb) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    h text := pggit.snapshot_hash(doc);
BEGIN
    INSERT INTO pggit.snapshots (hash, doc) VALUES (h, doc) ON CONFLICT (hash) DO NOTHING;
    RETURN h;
END
$fn$;

-- Add a commit on top of the branch head with the branch's live snapshot (or `doc` when given), store the
-- document, move the head, and attach the branch's uncommitted ddl_log rows (unless `attach` is false). The
-- branch row is locked, so concurrent commits serialize. Internal: only pggit's SECURITY DEFINER functions
-- call it (EXECUTE is not granted).
DROP FUNCTION IF EXISTS pggit._record_commit(bigint, text, text);
CREATE OR REPLACE FUNCTION pggit._record_commit(branch_id bigint, message text, author text DEFAULT NULL,
                                                doc jsonb DEFAULT NULL, attach boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    head bigint;
    h text;
    new_id bigint;
BEGIN
    SELECT b.head_commit_id INTO head FROM pggit.branches b
     WHERE b.id = _record_commit.branch_id AND b.status <> 'deleted' FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('branch id %s does not exist', branch_id),
              HINT = 'list branches with SELECT * FROM pggit.list_branches()';
    END IF;
    IF message IS NULL OR btrim(message) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'a commit needs a message',
              HINT = 'pass a non-empty message';
    END IF;
    h := pggit._store_snapshot(coalesce(doc, pggit._snapshot_of(_record_commit.branch_id)));
    INSERT INTO pggit.commits (branch_id, parent_id, message, author, snapshot_hash, committed_by)
    VALUES (_record_commit.branch_id, head, message, coalesce(author, pggit._invoker()), h, pggit._invoker())
    RETURNING id INTO new_id;
    UPDATE pggit.branches b SET head_commit_id = new_id WHERE b.id = _record_commit.branch_id;
    IF attach THEN
        UPDATE pggit.ddl_log l SET commit_id = new_id
         WHERE l.branch_id = _record_commit.branch_id AND l.commit_id IS NULL;
    END IF;
    RETURN new_id;
END
$fn$;
