-- engine.sql: the small primitives every stage of the engine (render, plan, diff, merge, conflicts) and the
-- Python client share, each defined once: object keys, paths into a document, the one comparable form of
-- an object, the one added / removed / changed, the one three-way pick of a value, and running statements
-- on a branch. Idempotent (CREATE OR REPLACE). Tested one by one in tests/db/engine/.
--
-- A "path" names a place in a snapshot document (what a conflict is about, what a resolution replaces):
--   {"key": "<object key>"}                             a whole object
--   {"key": "table:public.users", "column": "email"}   one column of a table
--   {"key": "table:public.users", "field": "comment"}  one field of an object
--
-- The hot primitives are SQL-language functions without a SET clause, so that PostgreSQL inlines them
-- into their callers (they name pg_catalog operators only; every caller sets its own search_path).

-- Gone since version 3 (renamed to the primitives below): dropped from older databases.
DROP FUNCTION IF EXISTS pggit._merge_get(jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_set(jsonb, jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_take(jsonb, jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_strip(jsonb);
DROP FUNCTION IF EXISTS pggit._merge_same(jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_changes(jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_differences(jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_key_kind(text);
DROP FUNCTION IF EXISTS pggit._merge_table_key(jsonb);
DROP FUNCTION IF EXISTS pggit._merge_is_fk(jsonb);
DROP FUNCTION IF EXISTS pggit._merge_dep_path(text);
DROP FUNCTION IF EXISTS pggit._merge_defined(jsonb, jsonb);
DROP FUNCTION IF EXISTS pggit._merge_exec(bigint, text, text);

-- ------------------------------------------------------------------------------------------- object keys

-- The kind of object a key names (`table:public.users` -> `table`).
CREATE OR REPLACE FUNCTION pggit._key_kind(key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT split_part(key, ':', 1)
$fn$;

-- The tracked schema a key names (`table:public.users` -> `public`).
CREATE OR REPLACE FUNCTION pggit._key_schema(key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT split_part(split_part(key, ':', 2), '.', 1)
$fn$;

-- The key of the table an index, constraint, trigger or policy object belongs to (NULL for other kinds).
CREATE OR REPLACE FUNCTION pggit._table_key(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN obj ? 'table' AND obj ? 'schema' THEN 'table:' || (obj ->> 'schema') || '.' || (obj ->> 'table') END
$fn$;

-- Whether an object is a foreign key constraint (snapshot.sql: kind `constraint`, `type` = pg_constraint's
-- contype, `f` for a foreign key).
CREATE OR REPLACE FUNCTION pggit._is_fk(obj jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(obj ->> 'kind' = 'constraint' AND obj ->> 'type' = 'f', false)
$fn$;

-- ------------------------------------------------------------------------------------------------- paths

-- The value at a path of a document (NULL when absent).
CREATE OR REPLACE FUNCTION pggit._path_get(doc jsonb, path jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE
        WHEN path ? 'column' THEN doc -> 'objects' -> (path ->> 'key') -> 'columns' -> (path ->> 'column')
        WHEN path ? 'field' THEN doc -> 'objects' -> (path ->> 'key') -> (path ->> 'field')
        ELSE doc -> 'objects' -> (path ->> 'key')
    END
$fn$;

-- The document with `val` at `path` (removed when val is NULL; a column or field of an absent object is
-- left absent).
CREATE OR REPLACE FUNCTION pggit._path_set(doc jsonb, path jsonb, val jsonb) RETURNS jsonb
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

-- `doc` with `side`'s value at every path (what _path_set does path by path: a resolution 'ours' or
-- 'theirs', the uncaptured objects of a drift commit). The objects map is extracted and written back
-- once, whatever the number of paths.
CREATE OR REPLACE FUNCTION pggit._path_take(doc jsonb, side jsonb, paths jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $fn$
DECLARE
    objs jsonb := coalesce(doc -> 'objects', '{}');
    sobjs jsonb := coalesce(side -> 'objects', '{}');
    k text;
    obj jsonb;
    p jsonb;
    val jsonb;
    keys text[] := '{}'::text[];
    vals jsonb[] := '{}'::jsonb[];
    removed text[] := '{}'::text[];
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
                EXIT WHEN obj IS NULL;  -- a column or field of an absent object stays absent
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

-- The path a `deps` entry names: an object key, or `column:<schema>.<table>.<column>` (a column of a table).
CREATE OR REPLACE FUNCTION pggit._dep_path(dep text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE
        WHEN dep LIKE 'column:%' THEN jsonb_build_object(
            'key', 'table:' || regexp_replace(substr(dep, 8), '\.[^.]*$', ''),
            'column', substring(dep FROM '\.([^.]*)$'))
        ELSE jsonb_build_object('key', dep)
    END
$fn$;

-- Whether a side removed what a path names since the base: the base has it, ours or theirs does not (the
-- only objects and columns a resolution may drop).
CREATE OR REPLACE FUNCTION pggit._path_dropped(path jsonb, base jsonb, ours jsonb, theirs jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT pggit._path_get(base, path) IS NOT NULL
       AND (pggit._path_get(ours, path) IS NULL OR pggit._path_get(theirs, path) IS NULL)
$fn$;

-- ------------------------------------------------------------------------------------ comparing documents

-- The one comparable form of an object: without the fields that are not part of its identity (the
-- derived `deps`, the creation `column_order`). Python's SchemaObject.comparable() is the same.
CREATE OR REPLACE FUNCTION pggit._comparable(obj jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT obj - 'deps' - 'column_order'
$fn$;

-- A document with every object in its comparable form (objects only).
CREATE OR REPLACE FUNCTION pggit._comparable_doc(doc jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT jsonb_build_object('objects', coalesce((
        SELECT jsonb_object_agg(key, pggit._comparable(value)) FROM jsonb_each(coalesce(doc -> 'objects', '{}'))
    ), '{}'))
$fn$;

-- The one added / removed / changed: what turning object `old` into `new` is (either NULL: absent);
-- 'same' when their comparable forms are equal, NULL when both are absent.
CREATE OR REPLACE FUNCTION pggit._change(old jsonb, new jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN old IS NULL THEN CASE WHEN new IS NOT NULL THEN 'added' END
                WHEN new IS NULL THEN 'removed'
                WHEN pggit._comparable(old) = pggit._comparable(new) THEN 'same'
                ELSE 'changed' END
$fn$;

-- What turning document `a` into `b` changes, object by object: [{key, change}] sorted by key, objects
-- that stay the same left out.
CREATE OR REPLACE FUNCTION pggit._changes(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(jsonb_agg(jsonb_build_object('key', c.k, 'change', c.change) ORDER BY c.k), '[]')
      FROM (SELECT coalesce(x.k, y.k) AS k, pggit._change(x.v, y.v) AS change
              FROM jsonb_each(coalesce(a -> 'objects', '{}')) AS x(k, v)
              FULL JOIN jsonb_each(coalesce(b -> 'objects', '{}')) AS y(k, v) ON x.k = y.k) AS c
     WHERE c.change <> 'same'
$fn$;

-- Whether two documents describe the same schema (no object added, removed or changed).
CREATE OR REPLACE FUNCTION pggit._same(a jsonb, b jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT NOT EXISTS (
        SELECT 1 FROM jsonb_each(coalesce(a -> 'objects', '{}')) AS x(k, v)
          FULL JOIN jsonb_each(coalesce(b -> 'objects', '{}')) AS y(k, v) ON x.k = y.k
         WHERE pggit._change(x.v, y.v) <> 'same')
$fn$;

-- What differs between the expected and the actual document, for error messages.
CREATE OR REPLACE FUNCTION pggit._differences(expected jsonb, actual jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT coalesce(string_agg(format('%s %s', c ->> 'key', CASE c ->> 'change' WHEN 'added' THEN 'is missing'
                                      WHEN 'removed' THEN 'should not exist' ELSE 'differs' END), '; '), 'nothing')
      FROM jsonb_array_elements(pggit._changes(actual, expected)) AS c
$fn$;

-- The one three-way pick of a value (an object, a field, a column, a leaf): 'ours' when theirs did not
-- change it or both sides agree (the target keeps its value), 'theirs' when only theirs changed it, 'both'
-- when both sides changed it differently (a conflict). NULL values are absent ones.
CREATE OR REPLACE FUNCTION pggit._pick3(b jsonb, o jsonb, t jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN o IS NOT DISTINCT FROM t OR t IS NOT DISTINCT FROM b THEN 'ours'
                WHEN o IS NOT DISTINCT FROM b THEN 'theirs'
                ELSE 'both' END
$fn$;

-- ---------------------------------------------------------------------------------- statements on branches

-- Run one statement on a branch: search_path = the branch's physical schema for `tracked` (followed by
-- the other schemas of the branch). It runs with the invoker's own rights.
CREATE OR REPLACE FUNCTION pggit._exec_on(branch_id bigint, tracked text, stmt text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    path text;
BEGIN
    SELECT string_agg(quote_ident(bs.physical_schema), ', '
                      ORDER BY bs.tracked_schema IS DISTINCT FROM tracked, bs.tracked_schema)
      INTO path FROM pggit.branch_schemas bs WHERE bs.branch_id = _exec_on.branch_id;
    PERFORM set_config('search_path', coalesce(path, '') || CASE WHEN path IS NULL THEN 'pg_catalog' ELSE ', pg_catalog' END, true);
    EXECUTE stmt;
END
$fn$;

-- Try statements on a branch, in order, with the invoker's rights (each as pggit._exec_on runs it): all of
-- them run, or none does. Returns `failed`, the 1-based index of the first statement that failed (NULL
-- when all ran), its SQLSTATE (`state`), `message` and `hint`, and `doc`, the branch's document after the
-- statements (NULL when one failed). The caller decides whether to keep what ran (a merge's custom
-- resolutions) or to roll it back (a scratch branch). statement_timeout bounds the whole try.
CREATE OR REPLACE FUNCTION pggit._try_statements(branch_id bigint, tracked text, statements text[],
                                                 OUT failed integer, OUT state text, OUT message text,
                                                 OUT hint text, OUT doc jsonb)
LANGUAGE plpgsql SET check_function_bodies = off AS $fn$
DECLARE
    i integer := 0;
    stmt text;
BEGIN
    BEGIN
        FOREACH stmt IN ARRAY coalesce(statements, '{}') LOOP
            i := i + 1;
            PERFORM pggit._exec_on(branch_id, tracked, stmt);
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
        failed := i;
        hint := nullif(hint, '');
        RETURN;
    END;
    doc := pggit._snapshot_of(branch_id);
END
$fn$;
