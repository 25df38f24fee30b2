-- merge.sql: three-way merge of snapshot documents, pggit.merge() (apply into a target branch, history,
-- merge commit), pggit.conflicts and pggit.resolve_conflict(). Idempotent (CREATE OR REPLACE).
--
-- Vocabulary: base = the merge base commit's snapshot, ours = the target now, theirs = the source now.
-- A "path" names what a conflict is about and what a resolution replaces:
--   {"key": "<object key>"}                      a whole object
--   {"key": "table:public.users", "column": "email"}   one column of a table
--   {"key": "table:public.users", "field": "comment"}  one table-level field
-- In _merge3's merged document every conflicting path holds ours' value (the target unchanged there),
-- except auto-resolvable conflicts, whose automatic resolution (keep both) is already in it.
-- A resolution 'ours' / 'theirs' copies that side's value at every path of the conflict; 'custom'
-- keeps ours' value and runs the recorded custom SQL after the merge's own statements.

-- Columns this file needs on the tables of metadata.sql.
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS paths jsonb NOT NULL DEFAULT '[]';
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS auto_resolvable boolean NOT NULL DEFAULT false;
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS fingerprint text;
-- Objects a resolution may change besides the conflict's own (the table a side renamed it to).
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS related text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS conflicts_fingerprint
    ON pggit.conflicts (source_branch, target_branch, fingerprint);
ALTER TABLE pggit.merges ADD COLUMN IF NOT EXISTS detail jsonb;

-- The conflict type of an object kind (TABLE, COLUMN, FUNCTION, INDEX, CONSTRAINT, VIEW, TYPE, ...).
CREATE OR REPLACE FUNCTION pggit._merge_type_of(kind text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE
        WHEN kind IS NULL THEN 'OBJECT'
        WHEN kind = 'column' THEN 'COLUMN'
        WHEN kind LIKE '%view%' THEN 'VIEW'
        WHEN kind LIKE '%table%' OR kind = 'partition' THEN 'TABLE'
        WHEN kind IN ('function', 'procedure', 'aggregate', 'routine') THEN 'FUNCTION'
        WHEN kind IN ('enum', 'domain', 'composite', 'type', 'range') THEN 'TYPE'
        ELSE upper(kind)
    END
$fn$;

-- The kind of object a key names (`table:public.users` -> `table`).
CREATE OR REPLACE FUNCTION pggit._merge_key_kind(key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT split_part(key, ':', 1)
$fn$;

-- The value at a path of a document (NULL when absent).
CREATE OR REPLACE FUNCTION pggit._merge_get(doc jsonb, path jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE
        WHEN path ? 'column' THEN doc -> 'objects' -> (path ->> 'key') -> 'columns' -> (path ->> 'column')
        WHEN path ? 'field' THEN doc -> 'objects' -> (path ->> 'key') -> (path ->> 'field')
        ELSE doc -> 'objects' -> (path ->> 'key')
    END
$fn$;

-- The document with `val` at `path` (removed when val is NULL; a column or field of an absent table is
-- left absent).
CREATE OR REPLACE FUNCTION pggit._merge_set(doc jsonb, path jsonb, val jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    k text := path ->> 'key';
BEGIN
    IF doc -> 'objects' IS NULL THEN
        doc := jsonb_set(coalesce(doc, '{}'), '{objects}', '{}');
    END IF;
    IF path ? 'column' OR path ? 'field' THEN
        IF doc -> 'objects' -> k IS NULL THEN
            RETURN doc;
        END IF;
        IF path ? 'column' THEN
            IF doc -> 'objects' -> k -> 'columns' IS NULL THEN
                doc := jsonb_set(doc, ARRAY['objects', k, 'columns'], '{}');
            END IF;
            IF val IS NULL THEN
                RETURN doc #- ARRAY['objects', k, 'columns', path ->> 'column'];
            END IF;
            RETURN jsonb_set(doc, ARRAY['objects', k, 'columns', path ->> 'column'], val);
        END IF;
        IF val IS NULL THEN
            RETURN doc #- ARRAY['objects', k, path ->> 'field'];
        END IF;
        RETURN jsonb_set(doc, ARRAY['objects', k, path ->> 'field'], val);
    END IF;
    IF val IS NULL THEN
        RETURN doc #- ARRAY['objects', k];
    END IF;
    RETURN jsonb_set(doc, ARRAY['objects', k], val);
END
$fn$;

-- Copy `side`'s value at every path into `doc` (a resolution 'ours' or 'theirs'). The objects map is
-- extracted and written back once, whatever the number of paths.
CREATE OR REPLACE FUNCTION pggit._merge_take(doc jsonb, side jsonb, paths jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    objs jsonb := coalesce(doc -> 'objects', '{}');
    sobjs jsonb := coalesce(side -> 'objects', '{}');
    k text;
    obj jsonb;
    p jsonb;
    val jsonb;
    keys text[] := '{}';
    vals jsonb[] := '{}';
    removed text[] := '{}';
BEGIN
    IF coalesce(jsonb_array_length(paths), 0) = 0 THEN
        RETURN doc;
    END IF;
    FOR k IN SELECT DISTINCT e ->> 'key' FROM jsonb_array_elements(paths) AS e ORDER BY 1 LOOP
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(paths) AS e
                    WHERE e ->> 'key' = k AND NOT (e ? 'column' OR e ? 'field')) THEN
            obj := sobjs -> k;  -- the whole object
        ELSE
            obj := objs -> k;
            FOR p IN SELECT e FROM jsonb_array_elements(paths) AS e WHERE e ->> 'key' = k ORDER BY e::text LOOP
                EXIT WHEN obj IS NULL;  -- a column or field of an absent table stays absent
                IF p ? 'column' THEN
                    val := sobjs -> k -> 'columns' -> (p ->> 'column');
                    obj := CASE WHEN val IS NULL THEN obj #- ARRAY['columns', p ->> 'column']
                                ELSE jsonb_set(CASE WHEN obj ? 'columns' THEN obj ELSE obj || '{"columns": {}}' END,
                                               ARRAY['columns', p ->> 'column'], val) END;
                ELSE
                    val := sobjs -> k -> (p ->> 'field');
                    obj := CASE WHEN val IS NULL THEN obj - (p ->> 'field')
                                ELSE jsonb_set(obj, ARRAY[p ->> 'field'], val) END;
                END IF;
            END LOOP;
        END IF;
        IF obj IS NULL THEN
            removed := removed || k;
        ELSE
            keys := keys || k;
            vals := vals || obj;
        END IF;
    END LOOP;
    objs := objs - removed;
    IF cardinality(keys) > 0 THEN
        objs := objs || (SELECT jsonb_object_agg(pk, pv) FROM unnest(keys, vals) AS u(pk, pv));
    END IF;
    RETURN jsonb_set(coalesce(doc, '{}'), '{objects}', objs);
END
$fn$;

-- A document without the fields that are not compared (derived `deps`, creation `column_order`).
CREATE OR REPLACE FUNCTION pggit._merge_strip(doc jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT jsonb_build_object('objects', coalesce((
        SELECT jsonb_object_agg(key, value - 'deps' - 'column_order') FROM jsonb_each(coalesce(doc -> 'objects', '{}'))
    ), '{}'))
$fn$;

-- Three-way merge of a set of strings (deps lists): (O ∩ T) ∪ (O − B) ∪ (T − B), sorted.
CREATE OR REPLACE FUNCTION pggit._merge_set3(b jsonb, o jsonb, t jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    WITH bs AS (SELECT jsonb_array_elements(coalesce(b, '[]')) AS v),
         os AS (SELECT jsonb_array_elements(coalesce(o, '[]')) AS v),
         ts AS (SELECT jsonb_array_elements(coalesce(t, '[]')) AS v),
         m AS (SELECT v FROM os INTERSECT SELECT v FROM ts
               UNION SELECT v FROM os EXCEPT SELECT v FROM bs
               UNION SELECT v FROM ts EXCEPT SELECT v FROM bs)
    SELECT coalesce(jsonb_agg(v ORDER BY v), '[]') FROM (SELECT DISTINCT v FROM m) AS d
$fn$;

-- Whether two documents describe the same schema (ignoring `deps` and `column_order`).
CREATE OR REPLACE FUNCTION pggit._merge_same(a jsonb, b jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT NOT EXISTS (
        SELECT 1 FROM jsonb_each(coalesce(a -> 'objects', '{}')) AS x(k, v)
          FULL JOIN jsonb_each(coalesce(b -> 'objects', '{}')) AS y(k, v) ON x.k = y.k
         WHERE x.k IS NULL OR y.k IS NULL
            OR (x.v - 'deps' - 'column_order') IS DISTINCT FROM (y.v - 'deps' - 'column_order'))
$fn$;

-- One conflict value.
CREATE OR REPLACE FUNCTION pggit._merge_conflict(
    object_key text, object_type text, conflict_type text, severity text, reason text, paths jsonb,
    base_def jsonb, ours_def jsonb, theirs_def jsonb, advice text, auto_resolvable boolean DEFAULT false)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT jsonb_build_object(
        'object_key', object_key, 'object_type', object_type, 'conflict_type', conflict_type,
        'severity', severity, 'reason', reason, 'paths', paths, 'base', base_def, 'ours', ours_def,
        'theirs', theirs_def, 'advice', advice, 'auto_resolvable', auto_resolvable)
$fn$;

-- The index definition without its name (two indexes with the same columns compare equal).
CREATE OR REPLACE FUNCTION pggit._merge_index_shape(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN position(' ON ' IN obj ->> 'definition') > 0
                THEN (CASE WHEN obj ->> 'definition' LIKE 'CREATE UNIQUE%' THEN 'UNIQUE ' ELSE '' END)
                     || substr(obj ->> 'definition', position(' ON ' IN obj ->> 'definition'))
           END
$fn$;

-- Whether a constraint object is a foreign key.
CREATE OR REPLACE FUNCTION pggit._merge_is_fk(obj jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(obj ->> 'contype', obj ->> 'type', obj ->> 'constraint_type', '') IN ('f', 'foreign_key', 'FOREIGN KEY')
        OR coalesce(obj ->> 'definition', '') LIKE 'FOREIGN KEY%'
$fn$;

-- The table key an index, constraint, trigger or policy belongs to (NULL for other kinds).
CREATE OR REPLACE FUNCTION pggit._merge_table_key(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN obj ? 'table_key' THEN obj ->> 'table_key'
                WHEN obj ? 'table' AND obj ? 'schema' THEN 'table:' || (obj ->> 'schema') || '.' || (obj ->> 'table')
           END
$fn$;

-- Three-way merge of enum values: both sides may insert values (never remove or reorder). Order-compatible
-- when no value was inserted at two different places: then {"values": [...], "ambiguous": bool}, where
-- ambiguous means both sides inserted different values into the same gap (merged: ours' first, as
-- ALTER TYPE ... ADD VALUE on the target would), else {"conflict": reason}.
CREATE OR REPLACE FUNCTION pggit._merge_enum_values(b jsonb, o jsonb, t jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    bv text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(b, '[]')));
    ov text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(o, '[]')));
    tv text[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(t, '[]')));
    og jsonb := '{}';  -- gap index (number of base values before it) -> inserted values, per side
    tg jsonb := '{}';
    gap integer;
    v text;
    result text[] := '{}';
    i integer;
BEGIN
    -- each side must keep the base values in order (enum values are never removed or reordered)
    IF ARRAY(SELECT x FROM unnest(ov) AS x WHERE x = ANY (bv)) IS DISTINCT FROM bv
       OR ARRAY(SELECT x FROM unnest(tv) AS x WHERE x = ANY (bv)) IS DISTINCT FROM bv THEN
        RETURN jsonb_build_object('conflict', 'a side removed or reordered base values');
    END IF;
    gap := 0;
    FOREACH v IN ARRAY ov LOOP
        IF v = ANY (bv) THEN gap := gap + 1;
        ELSE og := jsonb_set(og, ARRAY[gap::text], coalesce(og -> gap::text, '[]') || to_jsonb(v));
        END IF;
    END LOOP;
    gap := 0;
    FOREACH v IN ARRAY tv LOOP
        IF v = ANY (bv) THEN gap := gap + 1;
        ELSE tg := jsonb_set(tg, ARRAY[gap::text], coalesce(tg -> gap::text, '[]') || to_jsonb(v));
        END IF;
    END LOOP;
    -- the same value inserted in different places, or different values inserted in the same gap
    IF EXISTS (SELECT 1 FROM jsonb_each(og) AS a(g, vals), jsonb_array_elements_text(a.vals) AS x(val),
                              jsonb_each(tg) AS c(g2, vals2), jsonb_array_elements_text(c.vals2) AS y(val2)
                WHERE x.val = y.val2 AND (a.g <> c.g2 OR a.vals <> c.vals2)) THEN
        RETURN jsonb_build_object('conflict', 'the same value was added at different positions');
    END IF;
    FOR i IN 0 .. coalesce(array_length(bv, 1), 0) LOOP
        result := result || ARRAY(SELECT jsonb_array_elements_text(coalesce(og -> i::text, '[]')));
        IF (og -> i::text) IS DISTINCT FROM (tg -> i::text) THEN
            result := result || ARRAY(SELECT jsonb_array_elements_text(coalesce(tg -> i::text, '[]')));
        END IF;
        IF i < coalesce(array_length(bv, 1), 0) THEN
            result := result || bv[i + 1];
        END IF;
    END LOOP;
    RETURN jsonb_build_object('values', to_jsonb(result), 'ambiguous',
        EXISTS (SELECT 1 FROM jsonb_each(og) AS a(g, vals) JOIN jsonb_each(tg) AS c(g2, vals2) ON a.g = c.g2
                 WHERE a.vals <> c.vals2));
END
$fn$;

-- The column order of a merged table: ours' columns that remain, then the others in theirs' order.
CREATE OR REPLACE FUNCTION pggit._merge_column_order(m jsonb, o jsonb, t jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    WITH seq AS (
        SELECT c.name, 0 AS side, c.pos FROM jsonb_array_elements_text(coalesce(o -> 'column_order', '[]')) WITH ORDINALITY AS c(name, pos)
        UNION ALL
        SELECT c.name, 1, c.pos FROM jsonb_array_elements_text(coalesce(t -> 'column_order', '[]')) WITH ORDINALITY AS c(name, pos)
        UNION ALL
        SELECT c.name, 2, 0 FROM jsonb_object_keys(coalesce(m -> 'columns', '{}')) AS c(name)
    ), firsts AS (
        SELECT DISTINCT ON (name) name, side, pos FROM seq
         WHERE coalesce(m -> 'columns', '{}') ? name
         ORDER BY name, side, pos
    )
    SELECT coalesce(jsonb_agg(name ORDER BY side, pos, name), '[]') FROM firsts
$fn$;

-- Three-way merge of one table object both sides changed: field by field and column by column.
-- Returns {"merged": obj, "conflicts": [...]}.
CREATE OR REPLACE FUNCTION pggit._merge3_table(key text, b jsonb, o jsonb, t jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    m jsonb := o;
    conflicts jsonb := '[]';
    f text;
    bf jsonb; of jsonb; tf jsonb;
    added_o jsonb := '[]';
    added_t jsonb := '[]';
    kind text := coalesce(o ->> 'kind', t ->> 'kind');
BEGIN
    FOR f IN SELECT k FROM (SELECT jsonb_object_keys(coalesce(b, '{}')) UNION SELECT jsonb_object_keys(o)
                            UNION SELECT jsonb_object_keys(t)) AS u(k)
              WHERE k NOT IN ('columns', 'deps', 'column_order') ORDER BY 1 LOOP
        bf := b -> f; of := o -> f; tf := t -> f;
        IF of IS NOT DISTINCT FROM tf OR tf IS NOT DISTINCT FROM bf THEN
            CONTINUE;  -- m already holds ours' value
        ELSIF of IS NOT DISTINCT FROM bf THEN
            m := CASE WHEN tf IS NULL THEN m - f ELSE jsonb_set(m, ARRAY[f], tf) END;
        ELSE
            conflicts := conflicts || pggit._merge_conflict(key, kind, 'TABLE', 'ERROR', 'both_modified',
                jsonb_build_array(jsonb_build_object('key', key, 'field', f)), bf, of, tf,
                format('both sides changed %s of %s differently: keep one side or write the combined change',
                       f, key));
        END IF;
    END LOOP;
    FOR f IN SELECT k FROM (SELECT jsonb_object_keys(coalesce(b -> 'columns', '{}'))
                            UNION SELECT jsonb_object_keys(coalesce(o -> 'columns', '{}'))
                            UNION SELECT jsonb_object_keys(coalesce(t -> 'columns', '{}'))) AS u(k) ORDER BY 1 LOOP
        bf := b -> 'columns' -> f; of := o -> 'columns' -> f; tf := t -> 'columns' -> f;
        IF bf IS NULL AND of IS NOT NULL AND of IS DISTINCT FROM tf THEN
            added_o := added_o || jsonb_build_object('key', key, 'column', f);
        END IF;
        IF of IS NOT DISTINCT FROM tf OR tf IS NOT DISTINCT FROM bf THEN
            CONTINUE;
        ELSIF of IS NOT DISTINCT FROM bf THEN
            IF m -> 'columns' IS NULL THEN m := jsonb_set(m, '{columns}', '{}'); END IF;
            m := CASE WHEN tf IS NULL THEN m #- ARRAY['columns', f] ELSE jsonb_set(m, ARRAY['columns', f], tf) END;
            IF bf IS NULL THEN
                added_t := added_t || jsonb_build_object('key', key, 'column', f);
            END IF;
        ELSE
            conflicts := conflicts || pggit._merge_conflict(key || '.' || f, 'column', 'COLUMN', 'ERROR',
                CASE WHEN bf IS NULL THEN 'both_added' WHEN of IS NULL OR tf IS NULL THEN 'modify_delete'
                     ELSE 'both_modified' END,
                jsonb_build_array(jsonb_build_object('key', key, 'column', f)), bf, of, tf,
                CASE WHEN of IS NULL OR tf IS NULL
                     THEN format('one side dropped column %s of %s and the other changed it: keep the drop (theirs/ours) or the change', f, key)
                     ELSE format('both sides defined column %s of %s differently: pick one definition or write a custom ALTER TABLE that satisfies both', f, key) END);
        END IF;
    END LOOP;
    -- new columns with different names on both sides: keep both (their order on the target differs
    -- from either branch, so it is reported; auto-resolve keeps both)
    added_t := (SELECT coalesce(jsonb_agg(p), '[]') FROM jsonb_array_elements(added_t) AS p
                 WHERE NOT (added_o @> jsonb_build_array(p)));
    IF jsonb_array_length(added_o) > 0 AND jsonb_array_length(added_t) > 0 THEN
        conflicts := conflicts || pggit._merge_conflict(key, kind, 'TABLE', 'WARNING', 'both_added_columns',
            added_o || added_t, NULL,
            (SELECT jsonb_object_agg(p ->> 'column', o -> 'columns' -> (p ->> 'column')) FROM jsonb_array_elements(added_o) AS p),
            (SELECT jsonb_object_agg(p ->> 'column', t -> 'columns' -> (p ->> 'column')) FROM jsonb_array_elements(added_t) AS p),
            format('both sides added columns to %s (%s / %s): keeping both is safe (auto_resolve => true)',
                   key, (SELECT string_agg(p ->> 'column', ', ') FROM jsonb_array_elements(added_o) AS p),
                   (SELECT string_agg(p ->> 'column', ', ') FROM jsonb_array_elements(added_t) AS p)),
            true);
    END IF;
    IF b ? 'deps' OR o ? 'deps' OR t ? 'deps' THEN
        m := jsonb_set(m, '{deps}', pggit._merge_set3(b -> 'deps', o -> 'deps', t -> 'deps'));
    END IF;
    -- creation order on the target: ours' columns that remain, then theirs' new ones (ADD COLUMN appends)
    IF o ? 'column_order' OR t ? 'column_order' THEN
        m := jsonb_set(m, '{column_order}', pggit._merge_column_order(m, o, t));
    END IF;
    RETURN jsonb_build_object('merged', m, 'conflicts', conflicts);
END
$fn$;

-- The state of a dependency named in a `deps` list: an object key, or `column:<schema>.<table>.<col>`
-- (a column of a table), in a document.
CREATE OR REPLACE FUNCTION pggit._merge_dep_path(dep text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE
        WHEN dep LIKE 'column:%' THEN jsonb_build_object(
            'key', 'table:' || regexp_replace(substr(dep, 8), '\.[^.]*$', ''),
            'column', substring(dep FROM '\.([^.]*)$'))
        ELSE jsonb_build_object('key', dep)
    END
$fn$;

-- What turning document `a` into `b` changes, object by object: [{key, change}], sorted by key.
CREATE OR REPLACE FUNCTION pggit._merge_changes(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(jsonb_agg(jsonb_build_object('key', coalesce(x.k, y.k), 'change',
               CASE WHEN x.k IS NULL THEN 'added' WHEN y.k IS NULL THEN 'removed' ELSE 'changed' END)
               ORDER BY coalesce(x.k, y.k)), '[]')
      FROM jsonb_each(coalesce(a -> 'objects', '{}')) AS x(k, v)
      FULL JOIN jsonb_each(coalesce(b -> 'objects', '{}')) AS y(k, v) ON x.k = y.k
     WHERE x.k IS NULL OR y.k IS NULL
        OR (x.v - 'deps' - 'column_order') IS DISTINCT FROM (y.v - 'deps' - 'column_order')
$fn$;

-- Three-way merge of snapshot documents: {"merged": doc, "conflicts": [...], "changes": [...]}.
-- `changes` lists what the merged document changes in ours (the target): [{key, change}].
CREATE OR REPLACE FUNCTION pggit._merge3(base jsonb, ours jsonb, theirs jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    bo jsonb := coalesce(base -> 'objects', '{}');
    oo jsonb := coalesce(ours -> 'objects', '{}');
    tobj jsonb := coalesce(theirs -> 'objects', '{}');
    merged jsonb := coalesce(ours, '{}') || jsonb_build_object('objects', '{}'::jsonb);
    mo jsonb := '{}';
    conflicts jsonb := '[]';
    changes jsonb := '[]';
    k text;
    b jsonb; o jsonb; t jsonb; m jsonb;
    r jsonb;
    kind text;
    ctype text;
    c jsonb;
    changed_o jsonb := '{}';  -- path text -> path, changed by ours relative to base
    changed_t jsonb := '{}';
    dep text;
    dp jsonb;
    in_conflict jsonb := '{}';
    both_keys text[];
    patch_keys text[] := '{}';
    patch_vals jsonb[] := '{}';
    x record;
BEGIN
    -- set-based first: every object changed on at most one side (or identically on both)
    SELECT coalesce(jsonb_object_agg(u.k, CASE WHEN u.o IS NOT DISTINCT FROM u.b THEN u.t ELSE u.o END)
                        FILTER (WHERE (u.o IS NOT DISTINCT FROM u.t OR u.o IS NOT DISTINCT FROM u.b OR u.t IS NOT DISTINCT FROM u.b)
                                      AND (CASE WHEN u.o IS NOT DISTINCT FROM u.b THEN u.t ELSE u.o END) IS NOT NULL), '{}'),
           coalesce(jsonb_object_agg(u.k, jsonb_build_object('key', u.k))
                        FILTER (WHERE u.t IS NOT DISTINCT FROM u.b AND u.o IS DISTINCT FROM u.b), '{}'),
           coalesce(jsonb_object_agg(u.k, jsonb_build_object('key', u.k))
                        FILTER (WHERE u.o IS NOT DISTINCT FROM u.b AND u.t IS DISTINCT FROM u.b), '{}'),
           coalesce(array_agg(u.k ORDER BY u.k)
                        FILTER (WHERE u.o IS DISTINCT FROM u.t AND u.o IS DISTINCT FROM u.b AND u.t IS DISTINCT FROM u.b), '{}')
      INTO mo, changed_o, changed_t, both_keys
      FROM (SELECT coalesce(eo.k, et.k, eb.k) AS k, eb.v AS b, eo.v AS o, et.v AS t
              FROM jsonb_each(oo) AS eo(k, v)
              FULL JOIN jsonb_each(tobj) AS et(k, v) ON et.k = eo.k
              FULL JOIN jsonb_each(bo) AS eb(k, v) ON eb.k = coalesce(eo.k, et.k)) AS u;

    -- then the objects both sides changed differently, one by one
    FOREACH k IN ARRAY both_keys LOOP
        b := bo -> k; o := oo -> k; t := tobj -> k;
        kind := coalesce(o ->> 'kind', t ->> 'kind', b ->> 'kind', pggit._merge_key_kind(k));
        ctype := pggit._merge_type_of(kind);
        IF b IS NOT NULL AND o IS NOT NULL AND t IS NOT NULL AND kind = 'table' AND o ->> 'kind' = t ->> 'kind' THEN
            r := pggit._merge3_table(k, b, o, t);
            m := r -> 'merged';
            conflicts := conflicts || (r -> 'conflicts');
            -- column-level changes of each side, for dependency checks
            FOR x IN SELECT col FROM (SELECT jsonb_object_keys(coalesce(b -> 'columns', '{}'))
                                      UNION SELECT jsonb_object_keys(coalesce(o -> 'columns', '{}'))
                                      UNION SELECT jsonb_object_keys(coalesce(t -> 'columns', '{}'))) AS u(col) LOOP
                IF (o -> 'columns' -> x.col) IS DISTINCT FROM (b -> 'columns' -> x.col)
                   AND (t -> 'columns' -> x.col) IS NOT DISTINCT FROM (b -> 'columns' -> x.col) THEN
                    changed_o := changed_o || jsonb_build_object(k || '#' || x.col, jsonb_build_object('key', k, 'column', x.col));
                ELSIF (t -> 'columns' -> x.col) IS DISTINCT FROM (b -> 'columns' -> x.col)
                   AND (o -> 'columns' -> x.col) IS NOT DISTINCT FROM (b -> 'columns' -> x.col) THEN
                    changed_t := changed_t || jsonb_build_object(k || '#' || x.col, jsonb_build_object('key', k, 'column', x.col));
                END IF;
            END LOOP;
        ELSIF b IS NOT NULL AND o IS NOT NULL AND t IS NOT NULL AND o ? 'values' AND t ? 'values'
              AND (o - 'values' - 'deps') = (t - 'values' - 'deps') AND (o - 'values' - 'deps') = (b - 'values' - 'deps') THEN
            r := pggit._merge_enum_values(b -> 'values', o -> 'values', t -> 'values');
            IF r ? 'values' THEN
                m := jsonb_set(o, '{values}', r -> 'values');
                IF (r ->> 'ambiguous')::boolean THEN
                    conflicts := conflicts || pggit._merge_conflict(k, kind, 'TYPE', 'WARNING', 'enum_values_same_position',
                        jsonb_build_array(jsonb_build_object('key', k)), b, o, t,
                        format('both sides added values to enum %s at the same position: keeping both puts ours'' values before theirs (auto_resolve => true); use custom SQL (ALTER TYPE ... ADD VALUE ... BEFORE/AFTER) for another order', k),
                        true);
                END IF;
            ELSE
                m := o;
                conflicts := conflicts || pggit._merge_conflict(k, kind, 'TYPE', 'ERROR', 'enum_order',
                    jsonb_build_array(jsonb_build_object('key', k)), b, o, t,
                    format('enum %s: %s; pick one side''s values or add the values in the order you want with ALTER TYPE ... ADD VALUE ... BEFORE/AFTER',
                           k, r ->> 'conflict'));
            END IF;
        ELSE
            m := o;
            conflicts := conflicts || pggit._merge_conflict(k, kind, ctype, 'ERROR',
                CASE WHEN b IS NULL THEN 'both_added' WHEN o IS NULL OR t IS NULL THEN 'modify_delete'
                     ELSE 'both_modified' END,
                jsonb_build_array(jsonb_build_object('key', k)), b, o, t,
                CASE WHEN b IS NULL THEN format('both sides created %s with different definitions: keep one (ours/theirs) or write one that serves both (custom)', k)
                     WHEN o IS NULL THEN format('ours (the target) dropped or renamed %s while theirs (the source) changed it: keep the drop (ours), restore it with the change (theirs), or re-apply the change to the renamed object (custom)', k)
                     WHEN t IS NULL THEN format('theirs (the source) dropped or renamed %s while ours (the target) changed it: keep the change (ours), drop it (theirs), or re-apply the change to the renamed object (custom)', k)
                     WHEN ctype = 'FUNCTION' THEN format('both sides redefined %s differently: keep one body or write one CREATE OR REPLACE that combines both', k)
                     WHEN ctype = 'VIEW' THEN format('both sides redefined view %s differently: keep one or write a CREATE OR REPLACE VIEW with both changes', k)
                     ELSE format('both sides changed %s differently: keep one side or write the combined change', k) END);
        END IF;
        IF m IS NOT NULL THEN
            patch_keys := patch_keys || k;
            patch_vals := patch_vals || m;
        END IF;
    END LOOP;
    IF cardinality(patch_keys) > 0 THEN
        mo := mo || (SELECT jsonb_object_agg(pk, pv) FROM unnest(patch_keys, patch_vals) AS p(pk, pv));
    END IF;

    -- both sides added indexes with the same columns on one table (keep both), foreign keys on one table
    -- (a human decides)
    FOR x IN WITH ao AS (SELECT e.key, e.value, pggit._merge_key_kind(e.key) AS kind, pggit._merge_table_key(e.value) AS tk
                           FROM jsonb_each(changed_o) AS c(key, p) JOIN jsonb_each(oo) AS e ON e.key = c.key
                          WHERE NOT bo ? e.key AND pggit._merge_key_kind(e.key) IN ('index', 'constraint')),
                  at AS (SELECT e.key, e.value, pggit._merge_key_kind(e.key) AS kind, pggit._merge_table_key(e.value) AS tk
                           FROM jsonb_each(changed_t) AS c(key, p) JOIN jsonb_each(tobj) AS e ON e.key = c.key
                          WHERE NOT bo ? e.key AND pggit._merge_key_kind(e.key) IN ('index', 'constraint'))
             SELECT ao.key AS ok, at.key AS tk, ao.value AS ov, at.value AS tv
               FROM ao JOIN at ON ao.kind = at.kind AND ao.tk = at.tk AND ao.key <> at.key
              ORDER BY ao.key, at.key LOOP
        IF pggit._merge_key_kind(x.ok) = 'index' AND pggit._merge_index_shape(x.ov) = pggit._merge_index_shape(x.tv) THEN
            conflicts := conflicts || pggit._merge_conflict(x.ok, 'index', 'INDEX', 'WARNING', 'both_added_index',
                jsonb_build_array(jsonb_build_object('key', x.ok), jsonb_build_object('key', x.tk)), NULL, x.ov, x.tv,
                format('both sides added an index with the same columns on %s (%s, %s): keeping both is safe but one is redundant; drop one later',
                       pggit._merge_table_key(x.ov), x.ok, x.tk), true);
        ELSIF pggit._merge_key_kind(x.ok) = 'constraint' AND pggit._merge_is_fk(x.ov) AND pggit._merge_is_fk(x.tv) THEN
            conflicts := conflicts || pggit._merge_conflict(x.ok, 'constraint', 'CONSTRAINT', 'WARNING', 'both_added_fk',
                jsonb_build_array(jsonb_build_object('key', x.ok), jsonb_build_object('key', x.tk)), NULL, x.ov, x.tv,
                format('both sides added foreign keys on %s (%s, %s): check they do not overlap, then keep both (custom with no SQL) or one side',
                       pggit._merge_table_key(x.ov), x.ok, x.tk));
        END IF;
    END LOOP;

    -- dependencies: an object one side added or changed that depends on something the other side
    -- removed or changed
    FOR x IN SELECT 'ours' AS side, e.value AS p FROM jsonb_each(changed_o) AS e
             UNION ALL SELECT 'theirs', e.value FROM jsonb_each(changed_t) AS e LOOP
        CONTINUE WHEN x.p ? 'column';
        o := CASE WHEN x.side = 'ours' THEN oo ELSE tobj END -> (x.p ->> 'key');
        CONTINUE WHEN o IS NULL OR NOT (o ? 'deps');
        FOR dep IN SELECT jsonb_array_elements_text(o -> 'deps') LOOP
            dp := pggit._merge_dep_path(dep);
            CONTINUE WHEN dp ->> 'key' = x.p ->> 'key';
            IF (x.side = 'ours' AND (changed_t ? (dp ->> 'key') OR (dp ? 'column' AND changed_t ? ((dp ->> 'key') || '#' || (dp ->> 'column')))))
               OR (x.side = 'theirs' AND (changed_o ? (dp ->> 'key') OR (dp ? 'column' AND changed_o ? ((dp ->> 'key') || '#' || (dp ->> 'column'))))) THEN
                b := pggit._merge_get(base, dp);
                t := pggit._merge_get(CASE WHEN x.side = 'ours' THEN theirs ELSE ours END, dp);
                -- a whole table as a dependency counts only when removed (its columns are listed too)
                CONTINUE WHEN NOT (dp ? 'column') AND pggit._merge_key_kind(dp ->> 'key') = 'table' AND t IS NOT NULL;
                -- both sides made the same change to the dependency: nothing to decide
                CONTINUE WHEN t IS NOT DISTINCT FROM pggit._merge_get(CASE WHEN x.side = 'ours' THEN ours ELSE theirs END, dp);
                CONTINUE WHEN in_conflict ? (x.p::text || dp::text);
                in_conflict := in_conflict || jsonb_build_object(x.p::text || dp::text, true);
                conflicts := conflicts || pggit._merge_conflict(x.p ->> 'key', coalesce(o ->> 'kind', pggit._merge_key_kind(x.p ->> 'key')),
                    'DEPENDENCY', CASE WHEN t IS NULL THEN 'ERROR' ELSE 'WARNING' END,
                    CASE WHEN t IS NULL THEN 'dependency_removed' ELSE 'dependency_changed' END,
                    jsonb_build_array(x.p, dp),
                    jsonb_build_object('object', pggit._merge_get(base, x.p), 'dependency', b),
                    CASE WHEN x.side = 'ours' THEN jsonb_build_object('object', o, 'dependency', pggit._merge_get(ours, dp))
                         ELSE jsonb_build_object('object', pggit._merge_get(ours, x.p), 'dependency', t) END,
                    CASE WHEN x.side = 'theirs' THEN jsonb_build_object('object', o, 'dependency', pggit._merge_get(theirs, dp))
                         ELSE jsonb_build_object('object', pggit._merge_get(theirs, x.p), 'dependency', t) END,
                    format('%s (changed by %s) depends on %s, which %s %s: %s',
                           x.p ->> 'key', x.side, dep,
                           CASE WHEN x.side = 'ours' THEN 'theirs (the source)' ELSE 'ours (the target)' END,
                           CASE WHEN t IS NULL THEN 'removed' ELSE 'changed' END,
                           CASE WHEN t IS NULL THEN 'keep the dependency (ours/theirs) or rewrite the dependent object without it (custom)'
                                ELSE 'check the dependent object still works with the new definition, then pick a side or write the combined change (custom)' END));
            END IF;
        END LOOP;
    END LOOP;

    merged := jsonb_set(merged, '{objects}', mo);
    -- conflicting paths of conflicts that are not auto-resolvable hold ours' value (already so for the
    -- conflicts of one object; the dependency and foreign-key pairs may hold theirs' changes)
    merged := pggit._merge_take(merged, ours, (
        SELECT coalesce(jsonb_agg(p), '[]') FROM jsonb_array_elements(conflicts) AS e, jsonb_array_elements(e -> 'paths') AS p
         WHERE NOT (e ->> 'auto_resolvable')::boolean AND (e ->> 'conflict_type' = 'DEPENDENCY' OR e ->> 'reason' = 'both_added_fk')));
    changes := pggit._merge_changes(ours, merged);
    RETURN jsonb_build_object('merged', merged, 'conflicts', conflicts, 'changes', changes);
END
$fn$;

-- The SQL that turns `base_doc` into `side_doc` at the given paths (the seed's branch_a_sql /
-- branch_b_sql), rendered with render.sql; NULL when nothing differs.
CREATE OR REPLACE FUNCTION pggit._merge_side_sql(base_doc jsonb, side_doc jsonb, paths jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    p jsonb;
    b jsonb;
    s jsonb;
    tb jsonb;
    out text[] := '{}';
BEGIN
    FOR p IN SELECT jsonb_array_elements(coalesce(paths, '[]')) LOOP
        b := pggit._merge_get(base_doc, p);
        s := pggit._merge_get(side_doc, p);
        CONTINUE WHEN b IS NOT DISTINCT FROM s;
        IF p ? 'column' OR p ? 'field' THEN
            tb := coalesce(base_doc -> 'objects' -> (p ->> 'key'), side_doc -> 'objects' -> (p ->> 'key'));
            CONTINUE WHEN tb IS NULL;
            IF p ? 'column' THEN
                tb := jsonb_set(tb, '{columns}', '{}');
            END IF;
            out := out || pggit._render_alter(pggit._merge_set(jsonb_build_object('objects', jsonb_build_object(p ->> 'key', tb)), p, b) -> 'objects' -> (p ->> 'key'),
                                              pggit._merge_set(jsonb_build_object('objects', jsonb_build_object(p ->> 'key', tb)), p, s) -> 'objects' -> (p ->> 'key'));
        ELSIF b IS NULL THEN
            out := out || pggit._render_create(s);
        ELSIF s IS NULL THEN
            out := out || pggit._render_drop(b);
        ELSE
            out := out || pggit._render_alter(b, s);
        END IF;
    END LOOP;
    RETURN nullif(array_to_string(out, E';\n') || CASE WHEN cardinality(out) > 0 THEN ';' ELSE '' END, '');
END
$fn$;

-- A live branch by name, or PGG40.
CREATE OR REPLACE FUNCTION pggit._merge_branch(branch_name text, role text) RETURNS pggit.branches
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    b pggit.branches;
BEGIN
    IF branch_name IS NULL OR btrim(branch_name) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = format('the %s branch name is empty', role),
            HINT = 'name a branch: SELECT pggit.merge(''agent/x'', ''main'')';
    END IF;
    SELECT * INTO b FROM pggit.branches WHERE name = branch_name AND status <> 'deleted';
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('%s branch "%s" does not exist', role, branch_name),
            HINT = 'list branches with SELECT * FROM pggit.list_branches()';
    END IF;
    RETURN b;
END
$fn$;

-- Every commit reachable from a commit: parents, merge parents, and a branch's base commit (the commit
-- of its parent branch it was created from) behind its first commit.
CREATE OR REPLACE FUNCTION pggit._merge_ancestors(start_commit bigint) RETURNS TABLE(commit_id bigint)
LANGUAGE sql STABLE AS $fn$
    WITH RECURSIVE anc(id) AS (
        SELECT start_commit WHERE start_commit IS NOT NULL
        UNION
        SELECT v.p
          FROM anc JOIN pggit.commits c ON c.id = anc.id
          JOIN pggit.branches br ON br.id = c.branch_id
          CROSS JOIN LATERAL (VALUES (c.parent_id), (c.merge_parent_id),
                                     (CASE WHEN c.parent_id IS NULL AND br.base_commit_id <> c.id
                                           THEN br.base_commit_id END)) AS v(p)
         WHERE v.p IS NOT NULL
    )
    SELECT id FROM anc
$fn$;

-- The merge base of two commits: their newest common ancestor (NULL when unrelated).
CREATE OR REPLACE FUNCTION pggit._merge_base(a bigint, b bigint) RETURNS bigint
LANGUAGE sql STABLE AS $fn$
    SELECT max(x.commit_id) FROM pggit._merge_ancestors(a) AS x
     WHERE x.commit_id IN (SELECT commit_id FROM pggit._merge_ancestors(b))
$fn$;

-- Gone since version 2 (pggit._settle, pggit._needs_own_transaction, the new pggit._merge_conclude): dropped
-- from older databases.
DROP FUNCTION IF EXISTS pggit._merge_commit_head(bigint, text);
DROP FUNCTION IF EXISTS pggit._merge_needs_own_transaction(text);
DROP FUNCTION IF EXISTS pggit._merge_conclude(bigint, text, jsonb, jsonb, text, text);

-- The snapshot document a commit points at.
CREATE OR REPLACE FUNCTION pggit._merge_commit_doc(commit_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $fn$
    SELECT s.doc FROM pggit.commits c JOIN pggit.snapshots s ON s.hash = c.snapshot_hash WHERE c.id = commit_id
$fn$;

-- Run one statement on a branch: search_path = the branch's physical schema for `tracked` (followed by
-- the other schemas of the branch). It runs with the invoker's own rights.
CREATE OR REPLACE FUNCTION pggit._merge_exec(branch_id bigint, tracked text, stmt text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    path text;
BEGIN
    SELECT string_agg(quote_ident(bs.physical_schema), ', '
                      ORDER BY bs.tracked_schema IS DISTINCT FROM tracked, bs.tracked_schema)
      INTO path FROM pggit.branch_schemas bs WHERE bs.branch_id = _merge_exec.branch_id;
    PERFORM set_config('search_path', coalesce(path, '') || CASE WHEN path IS NULL THEN 'pg_catalog' ELSE ', pg_catalog' END, true);
    EXECUTE stmt;
END
$fn$;

-- The DDL statements a source branch ran since the base commit, in order, each client message once: only
-- what its sessions ran and capture recorded (pggit.statements class ddl, read again here). Merge commits
-- contribute nothing of their own: what they brought in is replayed from the branches they merged (which
-- are among the ancestors), never from text a merge recorded.
DROP FUNCTION IF EXISTS pggit._merge_source_statements(bigint, bigint);
CREATE OR REPLACE FUNCTION pggit._merge_source_statements(source_head bigint, base_commit bigint)
RETURNS TABLE(ord bigint, statement text, class text, skeleton text)
LANGUAGE sql STABLE AS $fn$
    WITH in_base AS (SELECT commit_id FROM pggit._merge_ancestors(base_commit))
    SELECT row_number() OVER (ORDER BY l.commit_id, l.id, s.ord), s.body,
           pggit._statement_class(s.skeleton, s.complete), s.skeleton
      FROM pggit._merge_ancestors(source_head) AS c
      JOIN pggit.commits cm ON cm.id = c.commit_id
      JOIN pggit.ddl_log l ON l.commit_id = c.commit_id
      CROSS JOIN LATERAL pggit._split_sql(l.statement) AS s
     WHERE c.commit_id NOT IN (SELECT commit_id FROM in_base)
       AND cm.merge_parent_id IS NULL
       AND l.statement_row IS NULL AND l.merge_id IS NULL AND l.statement <> ''
     ORDER BY l.commit_id, l.id, s.ord
$fn$;

-- The table a side renamed `removed_key` to, read from that side's captured DDL since the base: a table
-- the side has and the base has not, touched by ALTER TABLE and never by CREATE TABLE (exactly one),
-- else NULL. Used to say so in a conflict's advice; the merge itself never guesses renames.
CREATE OR REPLACE FUNCTION pggit._merge_renamed_to(branch_id bigint, head bigint, base_commit bigint, removed_key text,
                                                   side_doc jsonb, base_doc jsonb)
RETURNS text
LANGUAGE sql STABLE AS $fn$
    WITH since AS (
        SELECT l.command_tag, l.objects FROM pggit.ddl_log l
         WHERE l.branch_id = _merge_renamed_to.branch_id
           AND (l.commit_id IS NULL
                OR (l.commit_id IN (SELECT commit_id FROM pggit._merge_ancestors(head))
                    AND l.commit_id NOT IN (SELECT commit_id FROM pggit._merge_ancestors(base_commit))))
    ), candidates AS (
        SELECT o.key, o.value ->> 'schema' AS tracked, o.value ->> 'name' AS name
          FROM jsonb_each(coalesce(side_doc -> 'objects', '{}')) AS o
         WHERE o.value ->> 'kind' = 'table' AND NOT coalesce(base_doc -> 'objects', '{}') ? o.key
           AND (side_doc -> 'objects' -> removed_key) IS NULL
    ), touched AS (
        SELECT c.key, bool_or(s.command_tag = 'ALTER TABLE') AS altered, bool_or(s.command_tag = 'CREATE TABLE') AS created
          FROM candidates c
          JOIN since s ON EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(s.objects, '[]')) AS e
                                   WHERE e ->> 'type' = 'table' AND e ->> 'tracked_schema' = c.tracked
                                     AND e ->> 'identity' = format('%I.%I', e ->> 'schema', c.name))
         GROUP BY c.key
    )
    SELECT min(key) FROM touched WHERE altered AND NOT created HAVING count(*) FILTER (WHERE altered AND NOT created) = 1
$fn$;

-- A conflict's identity across attempts: the same object, type, paths and the same three definitions.
CREATE OR REPLACE FUNCTION pggit._merge_fingerprint(c jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT md5(jsonb_build_array(c -> 'object_key', c -> 'conflict_type', c -> 'reason', c -> 'paths',
                                 c -> 'base', c -> 'ours', c -> 'theirs')::text)
$fn$;

-- Whether the object a conflict is about is defined in a document (for a column conflict: the column).
CREATE OR REPLACE FUNCTION pggit._merge_defined(doc jsonb, paths jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN paths -> 0 ? 'column' THEN pggit._merge_get(doc, paths -> 0) IS NOT NULL
                ELSE doc -> 'objects' -> (paths -> 0 ->> 'key') IS NOT NULL END
$fn$;

-- What differs between the expected and the actual document, for error messages.
CREATE OR REPLACE FUNCTION pggit._merge_differences(expected jsonb, actual jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(string_agg(format('%s %s', c ->> 'key', CASE c ->> 'change' WHEN 'added' THEN 'is missing'
                                      WHEN 'removed' THEN 'should not exist' ELSE 'differs' END), '; '), 'nothing')
      FROM jsonb_array_elements(pggit._merge_changes(actual, expected)) AS c
$fn$;


-- Problems of a script as a conflict resolution, before it runs: it must hold at least one statement, and
-- only schema changes (pggit.statements class ddl).
CREATE OR REPLACE FUNCTION pggit._statement_problems(script text) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pggit.statements(script) s WHERE s.class <> 'empty')
                THEN ARRAY['the SQL holds no statement']
                ELSE coalesce(array_agg(format('statement %s (%s) is %s, not a schema change: a resolution may only change the schema',
                                               s.ord, left(regexp_replace(s.statement, '\s+', ' ', 'g'), 80),
                                               CASE s.class WHEN 'ddl_other' THEN 'DDL pggit does not merge (roles, ownership, rules, schemas, ...)'
                                                            WHEN 'incomplete' THEN 'incomplete (an unterminated quote, identifier or comment)'
                                                            ELSE s.class END)
                                        ORDER BY s.ord) FILTER (WHERE s.class <> 'ddl'), '{}') END
      FROM pggit.statements(script) s
$fn$;

-- Problems of what a conflict resolution did, read from the documents before and after it ran: it may
-- change only the conflict's objects and `related` ones (and the indexes, constraints, triggers and
-- policies of their tables), and may drop an object or a column only when a side dropped it since the base.
CREATE OR REPLACE FUNCTION pggit._resolution_problems(paths jsonb, base jsonb, ours jsonb, theirs jsonb,
                                                      before jsonb, after jsonb, related text[] DEFAULT '{}')
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    keys text[] := ARRAY(SELECT DISTINCT p ->> 'key' FROM jsonb_array_elements(coalesce(paths, '[]')) AS p)
                   || coalesce(related, '{}');
    problems text[] := '{}';
    c jsonb;
    k text;
    obj jsonb;
    col text;
    bo jsonb := coalesce(before -> 'objects', '{}');
    ao jsonb := coalesce(after -> 'objects', '{}');
    base_o jsonb := coalesce(base -> 'objects', '{}');
    ours_o jsonb := coalesce(ours -> 'objects', '{}');
    theirs_o jsonb := coalesce(theirs -> 'objects', '{}');
BEGIN
    FOR c IN SELECT jsonb_array_elements(pggit._merge_changes(before, after)) LOOP
        k := c ->> 'key';
        obj := coalesce(ao -> k, bo -> k);
        IF NOT (k = ANY (keys) OR coalesce(pggit._merge_table_key(obj), '') = ANY (keys)) THEN
            problems := problems || format('%s is %s, but only %s (and what belongs to it) may change', k,
                                           CASE c ->> 'change' WHEN 'added' THEN 'created' WHEN 'removed' THEN 'dropped'
                                                ELSE 'altered' END, array_to_string(keys, ', '));
        ELSIF c ->> 'change' = 'removed' THEN
            IF NOT (base_o ? k AND (NOT ours_o ? k OR NOT theirs_o ? k)) THEN
                problems := problems || format('%s is dropped, which neither side did', k);
            END IF;
        ELSIF c ->> 'change' = 'changed' AND jsonb_typeof(bo -> k -> 'columns') = 'object' THEN
            FOR col IN SELECT jsonb_object_keys(bo -> k -> 'columns')
                       EXCEPT SELECT jsonb_object_keys(CASE WHEN jsonb_typeof(ao -> k -> 'columns') = 'object'
                                                            THEN ao -> k -> 'columns' ELSE '{}' END) LOOP
                IF NOT (coalesce(base_o -> k -> 'columns', '{}') ? col
                        AND (NOT coalesce(ours_o -> k -> 'columns', '{}') ? col
                             OR NOT coalesce(theirs_o -> k -> 'columns', '{}') ? col)) THEN
                    problems := problems || format('column %s of %s is dropped, which neither side did', col, k);
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    RETURN problems;
END
$fn$;

-- Run the custom SQL of resolved conflicts on the target, one resolution after another. Unless it was
-- forced, each holds schema changes only (run one by one) and must pass pggit._resolution_problems against
-- the target as it was just before it; each must leave its object defined (`keep`: unless the target had
-- already dropped or renamed it). Raises PGG60 otherwise. Returns the statements run and the final document.
DROP FUNCTION IF EXISTS pggit._merge_run_customs(bigint, text, jsonb);
CREATE OR REPLACE FUNCTION pggit._merge_run_customs(target_id bigint, customs jsonb, start_doc jsonb, base_doc jsonb,
                                                    ours jsonb, theirs jsonb, OUT statements text[], OUT doc jsonb)
LANGUAGE plpgsql AS $fn$
DECLARE
    c jsonb;
    s record;
    tracked text;
    before jsonb;
BEGIN
    statements := '{}';
    doc := start_doc;
    FOR c IN SELECT jsonb_array_elements(customs) LOOP
        tracked := split_part(split_part(c -> 'paths' -> 0 ->> 'key', ':', 2), '.', 1);
        before := doc;
        IF coalesce((c ->> 'forced')::boolean, false) THEN
            PERFORM pggit._merge_exec(target_id, tracked, c ->> 'sql');
            statements := statements || (c ->> 'sql');
        ELSE
            PERFORM pggit._refuse_custom_sql((c ->> 'id')::bigint, pggit._statement_problems(c ->> 'sql'),
                                             'resolve the conflict again with schema changes only');
            FOR s IN SELECT x.statement FROM pggit.statements(c ->> 'sql') x WHERE x.class = 'ddl' ORDER BY x.ord LOOP
                PERFORM pggit._merge_exec(target_id, tracked, s.statement);
                statements := statements || s.statement;
            END LOOP;
        END IF;
        doc := pggit._snapshot_of(target_id);
        IF NOT coalesce((c ->> 'forced')::boolean, false) THEN
            PERFORM pggit._refuse_custom_sql((c ->> 'id')::bigint,
                pggit._resolution_problems(c -> 'paths', base_doc, ours, theirs, before, doc,
                                           ARRAY(SELECT jsonb_array_elements_text(coalesce(c -> 'related', '[]')))),
                'resolve the conflict again with SQL that changes only its objects and drops nothing no side dropped');
        END IF;
        IF (c ->> 'keep')::boolean AND NOT pggit._merge_defined(doc, c -> 'paths') THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG60',
                MESSAGE = format('the custom SQL of conflict %s left %s undefined', c ->> 'id', c ->> 'object_key'),
                HINT = 'resolve the conflict again with SQL that keeps the object defined';
        END IF;
    END LOOP;
END
$fn$;

-- The end of both apply paths: the target must now be the merged document (else PGG90 with `failure` and
-- what differs), then the recorded custom resolutions run (pggit._merge_run_customs). Returns the statements
-- the resolutions ran and the target's document at the end.
CREATE OR REPLACE FUNCTION pggit._merge_conclude(target_id bigint, final jsonb, customs jsonb, base_doc jsonb,
                                                 ours jsonb, theirs jsonb, failure text,
                                                 OUT statements text[], OUT doc jsonb)
LANGUAGE plpgsql AS $fn$
DECLARE
    actual jsonb := pggit._snapshot_of(target_id);
BEGIN
    IF NOT pggit._merge_same(actual, final) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG90',
            MESSAGE = format('%s: %s', failure, pggit._merge_differences(final, actual));
    END IF;
    SELECT x.statements, x.doc INTO statements, doc
      FROM pggit._merge_run_customs(target_id, customs, actual, base_doc, ours, theirs) x;
END
$fn$;

-- Whether the invoker may resolve a merge conflict: the owner of its source branch, or a merger.
CREATE OR REPLACE FUNCTION pggit._require_conflict_right(rec pggit.conflicts) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pggit AS $fn$
BEGIN
    IF pggit._is_merger(pggit._invoker())
       OR EXISTS (SELECT 1 FROM pggit.branches b WHERE b.name = rec.source_branch AND b.status <> 'deleted'
                     AND b.owner_role = pggit._invoker()) THEN
        RETURN;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'PGG51',
        MESSAGE = format('role %s may not resolve conflict %s: it belongs to the merge of %s into %s',
                         pggit._invoker(), rec.id, rec.source_branch, rec.target_branch),
        HINT = 'agents resolve the conflicts of their own branches; a merger resolves any';
END
$fn$;

-- The first step of pggit.merge, with pggit's rights: check who asks (the target's owner or a merger; an
-- agent merges main or its own branches only), lock the target, bring both histories up to their live
-- schemas (uncaptured changes become their own commits), find the merge base, record the attempt and start
-- the merge operation on the target. Returns what the merge computes with.
CREATE OR REPLACE FUNCTION pggit._merge_start(p_source text, p_target text, p_auto boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    invoker text := pggit._invoker();
    src pggit.branches;
    tgt pggit.branches;
    ours jsonb;
    theirs jsonb;
    t_settled record;
    s_settled record;
    base_commit bigint;
    mid bigint;
    tracked text;
    notes text[] := '{}';
BEGIN
    src := pggit._merge_branch(p_source, 'source');
    tgt := pggit._merge_branch(p_target, 'target');
    IF src.id = tgt.id THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50', MESSAGE = format('cannot merge branch "%s" into itself', p_source),
            HINT = 'merge it into another branch: SELECT pggit.merge(''agent/x'', ''main'')';
    END IF;
    PERFORM pggit._require_branch_right(tgt.id, 'merge into');
    IF NOT pggit._is_merger(invoker) AND src.name <> 'main' AND src.owner_role IS DISTINCT FROM invoker THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG51',
            MESSAGE = format('role %s may not merge branch %s: it belongs to %s', invoker, src.name, coalesce(src.owner_role, 'nobody')),
            HINT = 'an agent merges main (or its own branches) into its own branches; a merger merges anything';
    END IF;
    -- one merge at a time into a target; everything below is computed after the lock
    PERFORM pg_advisory_xact_lock(1885824615, tgt.id::integer);
    BEGIN
        PERFORM 1 FROM pggit.branches b WHERE b.id = tgt.id FOR UPDATE;
    EXCEPTION WHEN serialization_failure THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG91',
            MESSAGE = format('branch "%s" changed while this merge was being computed', p_target),
            HINT = 'run the merge again in a new transaction (it is recomputed on the new state)';
    END;
    src := pggit._merge_branch(p_source, 'source');
    tgt := pggit._merge_branch(p_target, 'target');
    SELECT string_agg(bs.tracked_schema, ',' ORDER BY bs.tracked_schema) INTO tracked
      FROM pggit.branch_schemas bs WHERE bs.branch_id = tgt.id;

    ours := pggit._snapshot_of(tgt.id);
    SELECT * INTO t_settled FROM pggit._settle(tgt.id, ours, format('Uncommitted changes of %s before a merge', tgt.name),
                                               invoker, false) s;
    theirs := pggit._snapshot_of(src.id);
    SELECT * INTO s_settled FROM pggit._settle(src.id, theirs, format('Uncommitted changes of %s before a merge', src.name),
                                               invoker, false) s;
    IF cardinality(t_settled.drift) > 0 THEN
        notes := notes || format('%s had changes pggit did not capture (%s): recorded as their own commit by ''outside pggit''',
                                 tgt.name, array_to_string(t_settled.drift, ', '));
    END IF;
    IF cardinality(s_settled.drift) > 0 THEN
        notes := notes || format('%s had changes pggit did not capture (%s): recorded as their own commit by ''outside pggit''',
                                 src.name, array_to_string(s_settled.drift, ', '));
    END IF;
    base_commit := pggit._merge_base(s_settled.head, t_settled.head);

    INSERT INTO pggit.merges (source_branch, target_branch, base_commit_id, source_commit_id, target_commit_id,
                              auto_resolve, had_conflicts, result, merged_by)
    VALUES (p_source, p_target, base_commit, s_settled.head, t_settled.head, p_auto, false, 'running', invoker)
    RETURNING id INTO mid;
    PERFORM pggit._op_begin(tgt.id, 'merge', mid);
    RETURN jsonb_build_object(
        'merge_id', mid, 'source_id', src.id, 'target_id', tgt.id, 'source_head', s_settled.head,
        'target_head', t_settled.head, 'base_commit', base_commit,
        'base_doc', coalesce(pggit._merge_commit_doc(base_commit), '{"format": 1, "objects": {}}'),
        'ours', ours, 'theirs', theirs, 'tracked', tracked, 'notes', to_jsonb(notes),
        'drift', jsonb_build_object(tgt.name, to_jsonb(t_settled.drift), src.name, to_jsonb(s_settled.drift)));
END
$fn$;

-- The merge row of a running merge operation of this transaction, or PGG50.
CREATE OR REPLACE FUNCTION pggit._merge_running(p_mid bigint) RETURNS pggit.merges
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    m pggit.merges;
    op pggit.operations;
BEGIN
    SELECT * INTO m FROM pggit.merges x WHERE x.id = p_mid AND x.result = 'running';
    op := pggit._op_require((SELECT b.id FROM pggit.branches b WHERE b.name = m.target_branch AND b.status <> 'deleted'),
                            'merge');
    IF m.id IS NULL OR op.merge_id IS DISTINCT FROM p_mid THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG50', MESSAGE = format('merge %s is not running in this transaction', p_mid),
            HINT = 'this is one of pggit''s internal steps; call pggit.merge instead';
    END IF;
    RETURN m;
END
$fn$;

-- The second step, with pggit's rights: record the conflicts the three-way merge found (a conflict found
-- again keeps its id), look up recorded resolutions, close conflicts no longer found. Returns {"open",
-- "auto", "resolved", "customs", "ours_paths", "theirs_paths"}.
CREATE OR REPLACE FUNCTION pggit._merge_record_conflicts(p_mid bigint, p_conflicts jsonb, p_base jsonb, p_ours jsonb,
                                                         p_theirs jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    mrow pggit.merges := pggit._merge_running(p_mid);
    src pggit.branches := pggit._merge_branch(mrow.source_branch, 'source');
    tgt pggit.branches := pggit._merge_branch(mrow.target_branch, 'target');
    c jsonb;
    fp text;
    rec pggit.conflicts;
    cid bigint;
    renamed text;
    current_fps text[] := '{}';
    open_ids bigint[] := '{}';
    open_list jsonb := '[]';
    auto_list jsonb := '[]';
    resolved_list jsonb := '[]';
    customs jsonb := '[]';
    ours_paths jsonb := '[]';
    theirs_paths jsonb := '[]';
BEGIN
    FOR c IN SELECT e FROM jsonb_array_elements(coalesce(p_conflicts, '[]')) AS e LOOP
        fp := pggit._merge_fingerprint(c);
        -- a table one side removed may have been renamed there: say so, from that side's captured DDL
        IF c ->> 'reason' = 'modify_delete' AND c ->> 'conflict_type' = 'TABLE' THEN
            renamed := CASE WHEN c -> 'ours' = 'null'::jsonb
                            THEN pggit._merge_renamed_to(tgt.id, mrow.target_commit_id, mrow.base_commit_id, c ->> 'object_key', p_ours, p_base)
                            ELSE pggit._merge_renamed_to(src.id, mrow.source_commit_id, mrow.base_commit_id, c ->> 'object_key', p_theirs, p_base) END;
            IF renamed IS NOT NULL THEN
                c := c || jsonb_build_object('related', jsonb_build_array(renamed));
                c := jsonb_set(c, '{advice}', to_jsonb(format(
                    '%s renamed %s to %s (captured ALTER TABLE) while %s changed it: re-apply that change to %s with a custom resolution, or keep one side',
                    CASE WHEN c -> 'ours' = 'null'::jsonb THEN 'ours (the target)' ELSE 'theirs (the source)' END,
                    c ->> 'object_key', renamed,
                    CASE WHEN c -> 'ours' = 'null'::jsonb THEN 'theirs (the source)' ELSE 'ours (the target)' END,
                    renamed)));
            END IF;
        END IF;
        current_fps := current_fps || fp;
        -- a recorded resolution of this very conflict (same source, target, object and definitions)
        SELECT * INTO rec FROM pggit.conflicts x
         WHERE x.source_branch = mrow.source_branch AND x.target_branch = mrow.target_branch AND x.fingerprint = fp
           AND x.resolved AND x.resolution IS NOT NULL
         ORDER BY x.resolved_at DESC NULLS LAST, x.id DESC LIMIT 1;
        IF FOUND THEN
            IF rec.resolution = 'theirs' THEN
                theirs_paths := theirs_paths || (c -> 'paths');
            ELSE
                ours_paths := ours_paths || (c -> 'paths');
            END IF;
            IF rec.resolution = 'custom' AND coalesce(btrim(rec.custom_sql), '') <> '' THEN
                customs := customs || jsonb_build_object('id', rec.id, 'sql', rec.custom_sql, 'paths', c -> 'paths',
                                                         'object_key', c ->> 'object_key', 'forced', rec.forced_by IS NOT NULL,
                                                         'related', to_jsonb(rec.related),
                                                         'keep', coalesce(c -> 'ours', 'null'::jsonb) <> 'null'::jsonb);
            END IF;
            resolved_list := resolved_list || jsonb_build_object('id', rec.id, 'object_key', c ->> 'object_key',
                'conflict_type', c ->> 'conflict_type', 'resolution', rec.resolution);
        ELSIF (c ->> 'auto_resolvable')::boolean AND mrow.auto_resolve THEN
            auto_list := auto_list || jsonb_build_object('object_key', c ->> 'object_key',
                'conflict_type', c ->> 'conflict_type', 'severity', c ->> 'severity', 'advice', c ->> 'advice');
        ELSE
            SELECT x.id INTO cid FROM pggit.conflicts x
             WHERE x.source_branch = mrow.source_branch AND x.target_branch = mrow.target_branch AND x.fingerprint = fp
               AND NOT x.resolved
             ORDER BY x.id LIMIT 1;
            IF NOT FOUND THEN
                INSERT INTO pggit.conflicts (merge_id, source_branch, target_branch, object_key, object_type,
                                             conflict_type, severity, base_def, ours_def, theirs_def, branch_a_sql,
                                             branch_b_sql, advice, reason, paths, auto_resolvable, fingerprint, related)
                VALUES (p_mid, mrow.source_branch, mrow.target_branch, c ->> 'object_key', c ->> 'object_type', c ->> 'conflict_type',
                        c ->> 'severity', c -> 'base', c -> 'ours', c -> 'theirs',
                        pggit._merge_side_sql(p_base, p_ours, c -> 'paths'),
                        pggit._merge_side_sql(p_base, p_theirs, c -> 'paths'),
                        c ->> 'advice', c ->> 'reason', c -> 'paths', (c ->> 'auto_resolvable')::boolean, fp,
                        ARRAY(SELECT jsonb_array_elements_text(coalesce(c -> 'related', '[]'))))
                RETURNING id INTO cid;
            END IF;
            open_ids := open_ids || cid;
            open_list := open_list || (c - 'base' - 'ours' - 'theirs' || jsonb_build_object('id', cid));
        END IF;
    END LOOP;
    -- open conflicts of this source and target that this attempt no longer finds (the branches changed,
    -- or auto-resolve settled them) are closed, so `WHERE resolved = false` lists only live ones
    UPDATE pggit.conflicts x
       SET resolved = true, resolved_by = pggit._invoker(), resolved_at = clock_timestamp(),
           resolution_notes = coalesce(x.resolution_notes || '; ', '')
               || CASE WHEN x.fingerprint = ANY (current_fps)
                       THEN format('settled by auto-resolve (keep both) in merge %s', p_mid)
                       ELSE format('no longer a conflict at merge %s (the branches changed)', p_mid) END
     WHERE x.source_branch = mrow.source_branch AND x.target_branch = mrow.target_branch AND NOT x.resolved
       AND x.id <> ALL (open_ids);
    UPDATE pggit.merges SET had_conflicts = jsonb_array_length(coalesce(p_conflicts, '[]')) > 0 WHERE id = p_mid;
    RETURN jsonb_build_object('open', open_list, 'auto', auto_list, 'resolved', resolved_list, 'customs', customs,
                              'ours_paths', ours_paths, 'theirs_paths', theirs_paths);
END
$fn$;

-- The last step, with pggit's rights: a merged result becomes the merge commit on the target (its
-- snapshot is `doc`, the target as the merge left it), agents may read what main gained, and the attempt is
-- recorded with its outcome. Ends the merge operation. Returns the merge commit (NULL unless merged).
CREATE OR REPLACE FUNCTION pggit._merge_finish(p_mid bigint, p_outcome jsonb, p_applied text[], p_doc jsonb,
                                               p_message text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    mrow pggit.merges := pggit._merge_running(p_mid);
    tgt pggit.branches := pggit._merge_branch(mrow.target_branch, 'target');
    result text := p_outcome ->> 'result';
    commit_id bigint;
BEGIN
    IF result = 'merged' THEN
        IF tgt.name = 'main' THEN
            PERFORM pggit._grant_main_read();
        END IF;
        commit_id := pggit._record_commit(tgt.id, p_message, pggit._invoker(), p_doc, true);
        UPDATE pggit.commits SET merge_parent_id = mrow.source_commit_id WHERE id = commit_id;
    END IF;
    UPDATE pggit.merges
       SET result = p_outcome ->> 'result', statements_applied = coalesce(cardinality(p_applied), 0),
           applied_sql = coalesce(p_applied, '{}'), result_commit_id = commit_id, error = p_outcome ->> 'error',
           finished_at = clock_timestamp(), detail = p_outcome || jsonb_build_object('result_commit_id', commit_id)
     WHERE id = p_mid;
    PERFORM pggit._op_end(tgt.id);
    RETURN commit_id;
END
$fn$;

-- pggit.merge(source, target, auto_resolve): three-way merge of the source branch into the target, in
-- the caller's transaction. Returns a jsonb result:
--   {"merge_id", "source", "target", "result": "merged" | "conflicts" | "noop" | "failed",
--    "has_conflicts", "applied", "method": "replay" | "plan" | null, "statements": [...],
--    "conflicts": [open conflicts, with their pggit.conflicts ids], "auto_resolved": [...],
--    "resolutions": [...], "notes": [...], "changes": [...], "drift": {...}, "base_commit_id",
--    "source_commit_id", "target_commit_id", "result_commit_id", "error", "code"}
-- Every attempt is recorded in pggit.merges. With open conflicts nothing is applied. A failed apply is
-- rolled back (the target is unchanged), recorded, and returned with result 'failed' and code 'PGG90'
-- ('PGG91' when another session changed the target meanwhile: run it again) so that the record
-- survives the caller's commit; the Python and CLI faces raise it.
-- What is applied is schema changes only: the source's captured DDL statements (never its data changes,
-- never text a session supplied otherwise), or pggit's own plan from the documents when that replay does
-- not reach the merged schema; then recorded custom resolutions (checked again). It runs with the
-- invoker's rights (SECURITY INVOKER): the target's owner or a merger; pggit's bookkeeping steps run
-- with pggit's.
CREATE OR REPLACE FUNCTION pggit.merge(source text, target text DEFAULT 'main', auto_resolve boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pggit
SET check_function_bodies = off
AS $fn$
DECLARE
    st jsonb := pggit._merge_start(merge.source, merge.target, coalesce(merge.auto_resolve, false));
    mid bigint := (st ->> 'merge_id')::bigint;
    target_id bigint := (st ->> 'target_id')::bigint;
    source_head bigint := (st ->> 'source_head')::bigint;
    base_commit bigint := (st ->> 'base_commit')::bigint;
    base_doc jsonb := st -> 'base_doc';
    ours jsonb := st -> 'ours';
    theirs jsonb := st -> 'theirs';
    tracked text := st ->> 'tracked';
    m jsonb;
    rc jsonb;
    final jsonb;
    customs jsonb;
    outcome jsonb;
    applied text[] := '{}';
    notes text[] := ARRAY(SELECT jsonb_array_elements_text(st -> 'notes'));
    kept_notes text[];
    method text;
    err text;
    replay_error text;
    actual jsonb;
    result_doc jsonb;
    ran record;
    r record;
    skipped integer := 0;
    stale boolean := false;
    result_commit bigint;
    merge_message text := format('Merge branch ''%s'' into %s', merge.source, merge.target);
BEGIN
    m := pggit._merge3(base_doc, ours, theirs);
    rc := pggit._merge_record_conflicts(mid, m -> 'conflicts', base_doc, ours, theirs);
    final := pggit._merge_take(pggit._merge_take(m -> 'merged', ours, rc -> 'ours_paths'), theirs, rc -> 'theirs_paths');
    customs := rc -> 'customs';
    outcome := jsonb_build_object('merge_id', mid, 'source', merge.source, 'target', merge.target,
        'base_commit_id', base_commit, 'source_commit_id', source_head, 'target_commit_id', (st ->> 'target_head')::bigint,
        'auto_resolve', coalesce(merge.auto_resolve, false), 'conflicts', rc -> 'open', 'auto_resolved', rc -> 'auto',
        'resolutions', rc -> 'resolved', 'drift', st -> 'drift',
        'changes', CASE WHEN jsonb_array_length(rc -> 'resolved') = 0 THEN m -> 'changes'
                        ELSE pggit._merge_changes(ours, final) END);

    IF jsonb_array_length(rc -> 'open') > 0 THEN
        outcome := outcome || jsonb_build_object('result', 'conflicts', 'has_conflicts', true, 'applied', false,
            'method', NULL, 'statements', '[]'::jsonb, 'notes', to_jsonb(notes), 'result_commit_id', NULL,
            'error', NULL, 'code', NULL);
        PERFORM pggit._merge_finish(mid, outcome, NULL, NULL, NULL);
        RETURN outcome;
    END IF;

    IF pggit._merge_same(final, ours) AND jsonb_array_length(customs) = 0 THEN
        outcome := outcome || jsonb_build_object('result', 'noop', 'has_conflicts', false, 'applied', false,
            'method', NULL, 'statements', '[]'::jsonb,
            'notes', to_jsonb(notes || 'nothing to merge: the target already has every change of the source'::text),
            'result_commit_id', NULL, 'error', NULL, 'code', NULL);
        PERFORM pggit._merge_finish(mid, outcome, NULL, NULL, NULL);
        RETURN outcome;
    END IF;

    -- 1. replay the source's captured DDL statements on the target
    kept_notes := notes;
    IF base_commit IS NOT NULL THEN
        BEGIN
            FOR r IN SELECT s.statement, s.class, s.skeleton FROM pggit._merge_source_statements(source_head, base_commit) s
                      ORDER BY s.ord LOOP
                IF r.class <> 'ddl' THEN
                    notes := notes || format('not replayed (%s, not a schema change): %s', r.class, left(r.statement, 200));
                    CONTINUE;
                END IF;
                IF pggit._needs_own_transaction(r.skeleton) THEN
                    skipped := skipped + 1;
                    notes := notes || format('not replayed (cannot run inside a transaction): %s', r.statement);
                    CONTINUE;
                END IF;
                PERFORM pggit._merge_exec(target_id, split_part(tracked, ',', 1), r.statement);
                applied := applied || r.statement;
            END LOOP;
            IF skipped > 0 THEN
                actual := pggit._snapshot_of(target_id);
                IF NOT pggit._merge_same(actual, final)
                   AND NOT EXISTS (SELECT 1 FROM pggit._plan(actual, final) p
                                    WHERE NOT (p.object_key LIKE 'index:%' AND p.change = 'added')) THEN
                    FOR r IN SELECT p.object_key, p.statement FROM pggit._plan(actual, final) p ORDER BY p.ord LOOP
                        PERFORM pggit._merge_exec(target_id, split_part(split_part(r.object_key, ':', 2), '.', 1),
                                                  r.statement);
                        applied := applied || r.statement;
                        notes := notes || format('applied in the merge transaction instead: %s', r.statement);
                    END LOOP;
                END IF;
            END IF;
            SELECT * INTO ran FROM pggit._merge_conclude(target_id, final, customs, base_doc, ours, theirs,
                'replaying the source''s statements did not reach the merged schema') x;
            applied := applied || ran.statements;
            result_doc := ran.doc;
            method := 'replay';
        EXCEPTION WHEN OTHERS THEN
            replay_error := SQLERRM;
            applied := '{}';
            notes := kept_notes || ARRAY(SELECT n FROM unnest(notes) AS n WHERE n LIKE 'not replayed (%, not a schema change)%');
            method := NULL;
        END;
    ELSE
        replay_error := 'no merge base';
    END IF;

    -- 2. otherwise apply the plan from ours to the merged document
    IF method IS NULL THEN
        notes := notes || format('replay not used (%s): applied the plan instead', replay_error);
        BEGIN
            FOR r IN SELECT p.object_key, p.statement FROM pggit._plan(ours, final) p ORDER BY p.ord LOOP
                PERFORM pggit._merge_exec(target_id, split_part(split_part(r.object_key, ':', 2), '.', 1), r.statement);
                applied := applied || r.statement;
            END LOOP;
            SELECT * INTO ran FROM pggit._merge_conclude(target_id, final, customs, base_doc, ours, theirs,
                'the target does not match the merged schema after applying the plan') x;
            applied := applied || ran.statements;
            result_doc := ran.doc;
            method := 'plan';
        EXCEPTION WHEN OTHERS THEN
            err := SQLERRM;
            applied := '{}';
        END;
    END IF;

    IF method IS NULL THEN
        -- another session changed the target after it was read: the merge was computed on a stale state
        actual := pggit._snapshot_of(target_id);
        IF NOT pggit._merge_same(actual, ours) THEN
            err := format('%s changed while the merge was being applied (%s); %s', merge.target,
                          pggit._merge_differences(actual, ours), err);
            stale := true;
        END IF;
        outcome := outcome || jsonb_build_object('result', 'failed', 'has_conflicts', false, 'applied', false,
            'method', NULL, 'statements', '[]'::jsonb, 'notes', to_jsonb(notes), 'result_commit_id', NULL,
            'error', format('merge of %s into %s failed and was rolled back (the target is unchanged by it): %s',
                            merge.source, merge.target, err),
            'code', CASE WHEN stale THEN 'PGG91' ELSE 'PGG90' END);
        PERFORM pggit._merge_finish(mid, outcome, NULL, NULL, NULL);
        RETURN outcome;
    END IF;

    outcome := outcome || jsonb_build_object('result', 'merged', 'has_conflicts', false, 'applied', true,
        'method', method, 'statements', to_jsonb(applied), 'notes', to_jsonb(notes), 'error', NULL, 'code', NULL);
    result_commit := pggit._merge_finish(mid, outcome, applied, result_doc, merge_message);
    RETURN outcome || jsonb_build_object('result_commit_id', result_commit);
END
$fn$;

-- A merge conflict by id (locked FOR UPDATE when `lock`), or PGG40.
CREATE OR REPLACE FUNCTION pggit._conflict_row(conflict_id bigint, lock boolean) RETURNS pggit.conflicts
LANGUAGE plpgsql SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    rec pggit.conflicts;
BEGIN
    IF lock THEN
        SELECT * INTO rec FROM pggit.conflicts c WHERE c.id = _conflict_row.conflict_id FOR UPDATE;
    ELSE
        SELECT * INTO rec FROM pggit.conflicts c WHERE c.id = _conflict_row.conflict_id;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('merge conflict %s does not exist', conflict_id),
            HINT = 'list open conflicts with SELECT * FROM pggit.conflicts WHERE resolved = false';
    END IF;
    RETURN rec;
END
$fn$;

-- PGG60 naming the problems of custom SQL for a conflict, when there are any.
CREATE OR REPLACE FUNCTION pggit._refuse_custom_sql(conflict_id bigint, problems text[], hint text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
BEGIN
    IF cardinality(problems) > 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG60',
            MESSAGE = format('the custom SQL for conflict %s is refused: %s', conflict_id, array_to_string(problems, '; ')),
            HINT = hint;
    END IF;
END
$fn$;

-- What resolving a conflict records, with pggit's rights: who may (the source's owner or a merger; force
-- needs a merger, and is recorded), and for custom SQL without force, schema changes only (checked again at
-- merge time). The checks that run the SQL are pggit.resolve_conflict's.
CREATE OR REPLACE FUNCTION pggit._conflict_record(conflict_id bigint, resolution text, custom_sql text, notes text,
                                                  force boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    rec pggit.conflicts;
BEGIN
    rec := pggit._conflict_row(conflict_id, true);
    PERFORM pggit._require_conflict_right(rec);
    IF coalesce(force, false) THEN
        PERFORM pggit._require_merger('force a resolution past its checks');
    ELSIF resolution = 'custom' THEN
        PERFORM pggit._refuse_custom_sql(conflict_id, pggit._statement_problems(custom_sql),
            'give only schema changes (CREATE, ALTER, DROP, COMMENT, GRANT of the conflict''s objects); a merger may pass force => true');
    END IF;
    UPDATE pggit.conflicts c
       SET resolved = true, resolution = _conflict_record.resolution, custom_sql = _conflict_record.custom_sql,
           resolution_notes = notes, resolved_by = pggit._invoker(), resolved_at = clock_timestamp(),
           forced_by = CASE WHEN coalesce(force, false) THEN pggit._invoker() END
     WHERE c.id = conflict_id
    RETURNING * INTO rec;
    RETURN to_jsonb(rec);
END
$fn$;

-- Record an LLM's proposal document on an open conflict (who may: as for resolving it). False when the
-- conflict was resolved meanwhile.
CREATE OR REPLACE FUNCTION pggit._conflict_record_proposal(conflict_id bigint, proposal jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    rec pggit.conflicts;
BEGIN
    rec := pggit._conflict_row(conflict_id, true);
    PERFORM pggit._require_conflict_right(rec);
    UPDATE pggit.conflicts c SET proposal = _conflict_record_proposal.proposal WHERE c.id = conflict_id AND NOT c.resolved;
    RETURN FOUND;
END
$fn$;

-- pggit.resolve_conflict(conflict_id, resolution, custom_sql, notes, force): record how a merge conflict is
-- to be resolved ('ours' = keep the target's version, 'theirs' = take the source's, 'custom' = keep the
-- target's and run custom_sql after the merge's statements). Custom SQL must be schema changes only; it is
-- tried first on a scratch branch made from the target (dropped again, as is everything the try did),
-- where it must run, change only the conflict's objects (and what belongs to them), drop nothing no side
-- dropped, and leave the conflicting object defined (when the target has it); else PGG60 and nothing is
-- recorded. force => true (a merger) records it without these checks, and who forced it. The next
-- pggit.merge() of the same source into the same target applies the resolution (checking it again). Its
-- owner or a merger resolves a conflict. Returns the conflict row.
DROP FUNCTION IF EXISTS pggit.resolve_conflict(bigint, text, text, text);
CREATE OR REPLACE FUNCTION pggit.resolve_conflict(conflict_id bigint, resolution text, custom_sql text DEFAULT NULL,
                                                  notes text DEFAULT NULL, force boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pggit
SET check_function_bodies = off
AS $fn$
DECLARE
    rec pggit.conflicts;
    mrow pggit.merges;
    scratch text;
    failure text;
    problems text[] := '{}';
    before jsonb;
    after jsonb;
    s record;
BEGIN
    rec := pggit._conflict_row(conflict_id, false);
    PERFORM pggit._require_conflict_right(rec);
    IF resolution IS NULL OR resolution NOT IN ('ours', 'theirs', 'custom') THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61',
            MESSAGE = format('resolution %s is not one of ours, theirs, custom', coalesce(quote_literal(resolution), 'NULL')),
            HINT = 'ours keeps the target''s version, theirs takes the source''s, custom runs custom_sql';
    END IF;
    IF resolution = 'custom' AND coalesce(btrim(custom_sql), '') = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'resolution custom needs custom_sql',
            HINT = 'pass the SQL that resolves the conflict: custom_sql => ''ALTER TABLE ...''';
    END IF;
    IF resolution <> 'custom' AND custom_sql IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61',
            MESSAGE = format('custom_sql is only used with resolution custom, not %s', resolution),
            HINT = 'use resolution => ''custom'' or leave custom_sql out';
    END IF;
    IF coalesce(force, false) THEN
        PERFORM pggit._require_merger('force a resolution past its checks');
    ELSIF resolution = 'custom' THEN
        PERFORM pggit._refuse_custom_sql(conflict_id, pggit._statement_problems(custom_sql),
            'give only schema changes (CREATE, ALTER, DROP, COMMENT, GRANT of the conflict''s objects); a merger may pass force => true');
        SELECT * INTO mrow FROM pggit.merges m WHERE m.id = rec.merge_id;
        scratch := format('pggit-scratch/resolve-%s-%s', conflict_id, txid_current());
        BEGIN
            PERFORM pggit.create_branch(scratch, rec.target_branch);
            PERFORM pggit.checkout(scratch);
            before := pggit._snapshot_of(pggit._branch_id(scratch));
            FOR s IN SELECT x.statement FROM pggit.statements(custom_sql) x WHERE x.class = 'ddl' ORDER BY x.ord LOOP
                PERFORM pggit._merge_exec(pggit._branch_id(scratch),
                                          split_part(split_part(rec.paths -> 0 ->> 'key', ':', 2), '.', 1), s.statement);
            END LOOP;
            after := pggit._snapshot_of(pggit._branch_id(scratch));
            problems := pggit._resolution_problems(rec.paths, pggit._merge_commit_doc(mrow.base_commit_id),
                                                   pggit.snapshot(rec.target_branch), pggit.snapshot(rec.source_branch),
                                                   before, after, rec.related);
            IF NOT pggit._merge_defined(after, rec.paths) AND rec.ours_def IS NOT NULL AND rec.ours_def <> 'null'::jsonb THEN
                problems := problems || format('it leaves %s undefined (a custom resolution must keep the conflicting object; use ours or theirs to take one side)',
                                               rec.object_key);
            END IF;
            -- undo the scratch branch, the checkout and everything the try did
            RAISE EXCEPTION USING ERRCODE = 'PGGZZ', MESSAGE = 'scratch try done';
        EXCEPTION
            WHEN SQLSTATE 'PGGZZ' THEN
                NULL;
            WHEN OTHERS THEN
                failure := SQLERRM;
        END;
        IF failure IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG60',
                MESSAGE = format('the custom SQL for conflict %s does not run on branch %s: %s', conflict_id,
                                 rec.target_branch, failure),
                HINT = 'fix the SQL (it runs with search_path set to the target''s schemas, after the merge''s own changes)';
        END IF;
        PERFORM pggit._refuse_custom_sql(conflict_id, problems,
            'change only the conflict''s objects and drop nothing no side dropped; a merger may pass force => true');
    END IF;
    RETURN pggit._conflict_record(conflict_id, resolution, custom_sql, notes, force);
END
$fn$;
