-- plan.sql: the ordered statements that turn one snapshot document into another (pggit._plan: which
-- objects are created, dropped, altered or rebuilt, ranked by their dependencies) and their execution on a
-- branch (pggit._apply_plan). Shared by branching (copies), diff and merge. Idempotent (CREATE OR REPLACE).

-- Creation phase of an object: the coarse order of creates (x1000), refined by `deps` in _plan.
CREATE OR REPLACE FUNCTION pggit._create_phase(obj jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE obj->>'kind'
        WHEN 'enum' THEN 1 WHEN 'domain' THEN 1 WHEN 'composite' THEN 1
        WHEN 'function' THEN 2 WHEN 'procedure' THEN 2
        WHEN 'sequence' THEN 3
        WHEN 'table' THEN 4
        WHEN 'constraint' THEN CASE WHEN pggit._is_fk(obj) THEN 8 ELSE 6 END
        WHEN 'index' THEN 7
        WHEN 'view' THEN 9 WHEN 'matview' THEN 9
        WHEN 'trigger' THEN 10
        WHEN 'policy' THEN 11
        ELSE 12 END
$fn$;

-- Objects that depend on others and are cheap to drop and create again (no data).
CREATE OR REPLACE FUNCTION pggit._is_rebuildable(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT kind IN ('view', 'matview', 'index', 'constraint', 'trigger', 'policy')
$fn$;

-- Rank of every object of a document: max over its dependency paths of phase*1000 + path length, so
-- an object comes after everything it depends on and after the objects of earlier phases.
-- Only the objects named in `origins` are ranked when it is given (NULL: all of them).
CREATE OR REPLACE FUNCTION pggit._ranks(doc jsonb, origins text[] DEFAULT NULL) RETURNS TABLE (object_key text, rank integer)
LANGUAGE sql STABLE SET search_path = pg_catalog SET jit = off AS $fn$
    WITH RECURSIVE
    o AS (SELECT key, value AS obj FROM jsonb_each(coalesce(doc->'objects', '{}'))),
    walk(origin, node, depth) AS (
        SELECT o.key, o.key, 0 FROM o WHERE origins IS NULL OR o.key = ANY (origins)
        UNION
        SELECT w.origin, d.dep, w.depth + 1
          FROM walk w
          JOIN o ON o.key = w.node
          CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(o.obj->'deps', '[]')) d(dep)
         WHERE w.depth < 40 AND d.dep NOT LIKE 'column:%'
    )
    SELECT w.origin, max(pggit._create_phase(o.obj) * 1000 + w.depth)::integer
      FROM walk w JOIN o ON o.key = w.node
     GROUP BY w.origin
$fn$;

-- The temporary name of an enum that is being replaced.
CREATE OR REPLACE FUNCTION pggit._replaced_enum_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT left(name, 40) || '__pggit_replaced'
$fn$;

-- The ordered statements that turn `from_doc` into `to_doc` (contract: docs/snapshot-format.md).
-- Built step by step with jsonb maps (key -> value), so every lookup is a binary search, not a join.
CREATE OR REPLACE FUNCTION pggit._plan(from_doc jsonb, to_doc jsonb)
RETURNS TABLE (ord integer, object_key text, change text, fields text[], statement text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog SET jit = off AS $fn$
DECLARE
    a jsonb := coalesce(from_doc->'objects', '{}');
    b jsonb := coalesce(to_doc->'objects', '{}');
    status jsonb;                -- key -> added / removed / changed / same
    replaced jsonb;              -- key -> true: changed objects that are dropped and created again
    enums jsonb;                 -- key -> true: replaced enums
    enum_cols jsonb;             -- [{table_key, col, coldef, col_key}]: columns moved to a replaced enum
    frontier text[];
    rebuild jsonb := '{}'::jsonb;       -- key -> true: unchanged/changed dependents dropped and created again
    modes jsonb;                 -- key -> create / drop / replace / alter / none
    ra jsonb := '{}'::jsonb;            -- ranks in from_doc
    rb jsonb := '{}'::jsonb;            -- ranks in to_doc
BEGIN
    SELECT coalesce(jsonb_object_agg(x.k, pggit._change(a->x.k, b->x.k)), '{}')
      INTO status
      FROM (SELECT jsonb_object_keys(a) UNION SELECT jsonb_object_keys(b)) x(k);
    IF NOT EXISTS (SELECT 1 FROM jsonb_each_text(status) s WHERE s.value <> 'same') THEN
        RETURN;
    END IF;

    SELECT coalesce(jsonb_object_agg(s.key, true), '{}') INTO replaced
      FROM jsonb_each_text(status) s
     WHERE s.value = 'changed' AND pggit._needs_replace(a->s.key, b->s.key);
    SELECT coalesce(jsonb_object_agg(r.k, true), '{}') INTO enums
      FROM jsonb_object_keys(replaced) r(k)
     WHERE a->r.k->>'kind' = 'enum' AND b->r.k->>'kind' = 'enum';
    enum_cols := '[]';
    IF enums <> '{}' THEN
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'table_key', t.key, 'col', c.key, 'coldef', c.value,
                   'col_key', 'column:' || (b->t.key->>'schema') || '.' || (b->t.key->>'name') || '.' || c.key)
                   ORDER BY t.key, c.key), '[]')
          INTO enum_cols
          FROM jsonb_each_text(status) t
          CROSS JOIN LATERAL jsonb_each(b->t.key->'columns') c
         WHERE t.value IN ('same', 'changed') AND b->t.key->>'kind' = 'table'
           AND (a->t.key->'columns'->c.key->>'type') = (c.value->>'type')
           AND EXISTS (SELECT 1 FROM jsonb_object_keys(enums) e(k)
                        WHERE b->e.k->>'schema' = b->t.key->>'schema'
                          AND c.value->>'type' IN (quote_ident(b->e.k->>'name'), quote_ident(b->e.k->>'name') || '[]'));
    END IF;

    -- what dependents must be rebuilt around: replaced and removed objects, columns that go away or
    -- change type, columns moved to a replaced enum
    SELECT array_agg(DISTINCT x.k) INTO frontier FROM (
        SELECT r.k FROM jsonb_object_keys(replaced) r(k)
        UNION ALL SELECT s.key FROM jsonb_each_text(status) s WHERE s.value = 'removed'
        UNION ALL SELECT e->>'col_key' FROM jsonb_array_elements(enum_cols) e
        UNION ALL
        SELECT 'column:' || (a->t.key->>'schema') || '.' || (a->t.key->>'name') || '.' || c.key
          FROM jsonb_each_text(status) t
          CROSS JOIN LATERAL jsonb_each(a->t.key->'columns') c
         WHERE t.value = 'changed' AND a->t.key->>'kind' = 'table'
           AND (b->t.key->'columns'->c.key IS NULL
                OR (c.value->>'type') IS DISTINCT FROM (b->t.key->'columns'->c.key->>'type')
                OR (c.value->>'collation') IS DISTINCT FROM (b->t.key->'columns'->c.key->>'collation')
                OR ((c.value->>'generated') IS DISTINCT FROM (b->t.key->'columns'->c.key->>'generated')
                    AND b->t.key->'columns'->c.key->>'generated' IS NOT NULL))
    ) x(k);
    WHILE frontier IS NOT NULL AND cardinality(frontier) > 0 LOOP
        SELECT array_agg(s.key) INTO frontier
          FROM jsonb_each_text(status) s
         WHERE s.value IN ('same', 'changed') AND NOT rebuild ? s.key
           AND pggit._is_rebuildable(a->s.key->>'kind')
           AND coalesce(a->s.key->'deps', '[]') ?| frontier;
        IF frontier IS NOT NULL THEN
            rebuild := rebuild || (SELECT jsonb_object_agg(f, true) FROM unnest(frontier) f);
        END IF;
    END LOOP;

    SELECT jsonb_object_agg(s.key,
               CASE WHEN s.value = 'added' THEN 'create'
                    WHEN s.value = 'removed' THEN 'drop'
                    WHEN replaced ? s.key OR rebuild ? s.key THEN 'replace'
                    WHEN s.value = 'changed' THEN 'alter'
                    ELSE 'none' END)
      INTO modes
      FROM jsonb_each_text(status) s;
    -- rank only the objects that get a statement (and the tables that own sequences or enum columns)
    SELECT coalesce(jsonb_object_agg(r.object_key, r.rank), '{}') INTO ra
      FROM pggit._ranks(from_doc, ARRAY(SELECT m.key FROM jsonb_each_text(modes) m WHERE m.value IN ('drop', 'replace'))) r;
    SELECT coalesce(jsonb_object_agg(r.object_key, r.rank), '{}') INTO rb
      FROM pggit._ranks(to_doc, ARRAY(
               SELECT m.key FROM jsonb_each_text(modes) m WHERE m.value IN ('create', 'replace', 'alter')
               UNION SELECT e->>'table_key' FROM jsonb_array_elements(enum_cols) e
               UNION SELECT 'table:' || (b->m.key->>'schema') || '.' || split_part(b->m.key->>'owned_by', '.', 1)
                       FROM jsonb_each_text(modes) m
                      WHERE m.value <> 'none' AND b->m.key->>'owned_by' IS NOT NULL)) r;

    RETURN QUERY
    WITH m AS (
        SELECT s.key, s.value AS status, modes->>s.key AS mode, a->s.key AS old, b->s.key AS new,
               CASE WHEN s.value = 'same' THEN 'rebuilt' ELSE s.value END AS label,
               (ra->>s.key)::integer AS rank_a, (rb->>s.key)::integer AS rank_b,
               coalesce(modes->>('table:' || (a->s.key->>'schema') || '.' || (a->s.key->>'table')),
                        modes->>('matview:' || (a->s.key->>'schema') || '.' || (a->s.key->>'table'))) AS parent_mode
          FROM jsonb_each_text(status) s
    ),
    rows_out AS (
        -- stage 1: early drops (dependents first); a replaced enum is renamed away instead
        SELECT 1 AS stage, -m.rank_a AS rank, m.key, 0 AS sub, s.idx, m.label, s.stmt,
               CASE WHEN m.status = 'changed' THEN pggit._changed_fields(m.old, m.new) ELSE '{}'::text[] END AS flds
          FROM m
          CROSS JOIN LATERAL unnest(CASE WHEN enums ? m.key
                                         THEN ARRAY[format('ALTER TYPE %I RENAME TO %I', m.old->>'name',
                                                           pggit._replaced_enum_name(m.old->>'name'))]
                                         ELSE pggit._render_drop(m.old) END) WITH ORDINALITY s(stmt, idx)
         WHERE (m.mode = 'replace' OR (m.mode = 'drop' AND pggit._is_rebuildable(m.old->>'kind')))
           AND NOT (m.mode = 'drop' AND coalesce(m.parent_mode, '') = 'drop'
                    AND m.old->>'kind' IN ('index', 'trigger', 'policy', 'constraint')
                    AND NOT pggit._is_fk(m.old))
        UNION ALL
        -- stage 2: creates and in-place alters, in dependency order
        SELECT 2, m.rank_b, m.key, 0, s.idx, m.label, s.stmt,
               CASE WHEN m.status = 'changed' THEN pggit._changed_fields(m.old, m.new) ELSE '{}'::text[] END
          FROM m
          CROSS JOIN LATERAL unnest(CASE WHEN m.mode IN ('create', 'replace') THEN pggit._render_create(m.new)
                                         ELSE pggit._render_alter(m.old, m.new) END) WITH ORDINALITY s(stmt, idx)
         WHERE m.mode IN ('create', 'replace', 'alter')
        UNION ALL
        -- stage 2: sequence ownership, once the owning table exists
        SELECT 2, greatest(5000, coalesce((rb->>('table:' || (m.new->>'schema') || '.'
                                                  || split_part(m.new->>'owned_by', '.', 1)))::integer + 1, 0)),
               m.key, 1, 1, m.label, pggit._render_sequence_owner(m.new),
               CASE WHEN m.status = 'changed' THEN pggit._changed_fields(m.old, m.new) ELSE '{}'::text[] END
          FROM m
         WHERE m.new->>'kind' = 'sequence'
           AND ((m.mode IN ('create', 'replace') AND m.new->>'owned_by' IS NOT NULL)
                OR (m.mode = 'alter' AND (m.old->>'owned_by') IS DISTINCT FROM (m.new->>'owned_by')))
        UNION ALL
        -- stage 2: columns of a replaced enum move to the new type (right after their table's own rows)
        SELECT 2, (rb->>(ec->>'table_key'))::integer, ec->>'table_key', 2, s.idx,
               CASE WHEN status->>(ec->>'table_key') = 'same' THEN 'rebuilt' ELSE status->>(ec->>'table_key') END,
               s.stmt, '{}'::text[]
          FROM jsonb_array_elements(enum_cols) ec
          CROSS JOIN LATERAL unnest(
              CASE WHEN ec->'coldef'->>'default' IS NOT NULL
                   THEN ARRAY[format('ALTER TABLE %I ALTER COLUMN %I DROP DEFAULT', b->(ec->>'table_key')->>'name',
                                     ec->>'col')]
                   ELSE '{}'::text[] END
              || format('ALTER TABLE %I ALTER COLUMN %I TYPE %s USING %I::text::%s', b->(ec->>'table_key')->>'name',
                        ec->>'col', ec->'coldef'->>'type', ec->>'col', ec->'coldef'->>'type')
              || CASE WHEN ec->'coldef'->>'default' IS NOT NULL
                      THEN ARRAY[format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT %s', b->(ec->>'table_key')->>'name',
                                        ec->>'col', ec->'coldef'->>'default')]
                      ELSE '{}'::text[] END) WITH ORDINALITY s(stmt, idx)
        UNION ALL
        -- stage 3: the renamed-away enums
        SELECT 3, -m.rank_a, m.key, 0, 1, m.label, format('DROP TYPE %I', pggit._replaced_enum_name(m.old->>'name')),
               pggit._changed_fields(m.old, m.new)
          FROM m WHERE enums ? m.key
        UNION ALL
        -- stage 3: late drops of removed tables, routines, sequences and types
        SELECT 3, -m.rank_a, m.key, 0, s.idx, m.label, s.stmt, '{}'::text[]
          FROM m
          CROSS JOIN LATERAL unnest(pggit._render_drop(m.old)) WITH ORDINALITY s(stmt, idx)
         WHERE m.mode = 'drop' AND NOT pggit._is_rebuildable(m.old->>'kind')
           AND NOT (m.old->>'kind' = 'sequence' AND m.old->>'owned_by' IS NOT NULL
                    AND coalesce(modes->>('table:' || (m.old->>'schema') || '.' || split_part(m.old->>'owned_by', '.', 1)), '')
                        IN ('drop', 'replace'))
    )
    SELECT (row_number() OVER (ORDER BY r.stage, r.rank, r.key, r.sub, r.idx))::integer,
           r.key, r.label, r.flds, r.stmt
      FROM rows_out r
     ORDER BY 1;
END
$fn$;

-- Execute the plan from `from_doc` to `to_doc` on a branch: each statement runs with search_path set to
-- the branch's physical schema for the object's tracked schema (then the branch's other schemas), with
-- check_function_bodies off. Returns the number of statements executed.
CREATE OR REPLACE FUNCTION pggit._apply_plan(p_branch_id bigint, from_doc jsonb, to_doc jsonb) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog SET check_function_bodies = off AS $fn$
DECLARE
    r record;
    obj_schema text;
    current_schema_for text := NULL;
    n integer := 0;
BEGIN
    FOR r IN SELECT * FROM pggit._plan(from_doc, to_doc) p ORDER BY p.ord LOOP
        obj_schema := coalesce(to_doc->'objects'->r.object_key->>'schema', from_doc->'objects'->r.object_key->>'schema');
        IF current_schema_for IS DISTINCT FROM obj_schema THEN
            PERFORM set_config('search_path', pggit._search_path_for(p_branch_id, obj_schema), true);
            current_schema_for := obj_schema;
        END IF;
        EXECUTE r.statement;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;
