-- render.sql: DDL from snapshot objects (docs/snapshot-format.md): create, drop and alter statements,
-- all relative to search_path (the branch's own objects are never schema-qualified), identifiers via %I.
-- Shared by branching (copies), diff and merge. Idempotent (CREATE OR REPLACE only).

-- The SQL name of an object for GRANT / COMMENT (`TABLE users`, `FUNCTION f(integer)`, ...).
CREATE OR REPLACE FUNCTION pggit._object_ref(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE obj->>'kind'
        WHEN 'table' THEN format('TABLE %I', obj->>'name')
        WHEN 'view' THEN format('VIEW %I', obj->>'name')
        WHEN 'matview' THEN format('MATERIALIZED VIEW %I', obj->>'name')
        WHEN 'sequence' THEN format('SEQUENCE %I', obj->>'name')
        WHEN 'index' THEN format('INDEX %I', obj->>'name')
        WHEN 'function' THEN format('FUNCTION %I(%s)', obj->>'name', obj->>'identity_args')
        WHEN 'procedure' THEN format('PROCEDURE %I(%s)', obj->>'name', obj->>'identity_args')
        WHEN 'enum' THEN format('TYPE %I', obj->>'name')
        WHEN 'composite' THEN format('TYPE %I', obj->>'name')
        WHEN 'domain' THEN format('DOMAIN %I', obj->>'name')
        WHEN 'constraint' THEN format('CONSTRAINT %I ON %I', obj->>'name', obj->>'table')
        WHEN 'trigger' THEN format('TRIGGER %I ON %I', obj->>'name', obj->>'table')
        WHEN 'policy' THEN format('POLICY %I ON %I', obj->>'name', obj->>'table')
    END
$fn$;

-- COMMENT ON ... IS ... (NULL clears it).
CREATE OR REPLACE FUNCTION pggit._render_comment(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT format('COMMENT ON %s IS %s', pggit._object_ref(obj), coalesce(quote_literal(obj->>'comment'), 'NULL'))
$fn$;

-- The grants an object has right after CREATE (before any GRANT/REVOKE), in the snapshot's notation.
CREATE OR REPLACE FUNCTION pggit._default_grants(kind text) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE WHEN kind IN ('function', 'procedure') THEN '["PUBLIC:EXECUTE"]'::jsonb
                WHEN kind IN ('enum', 'domain', 'composite') THEN '["PUBLIC:USAGE"]'::jsonb
                ELSE '[]'::jsonb END
$fn$;

-- GRANT / REVOKE statements that turn the grant list `old_grants` into the object's `grants`.
CREATE OR REPLACE FUNCTION pggit._render_grants(obj jsonb, old_grants jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    WITH
    old_g AS (SELECT g FROM jsonb_array_elements_text(coalesce(old_grants, '[]')) g),
    new_g AS (SELECT g FROM jsonb_array_elements_text(coalesce(obj->'grants', '[]')) g),
    parsed AS (
        SELECT x.op, x.g,
               split_part(x.g, ':', 1) AS grantee_raw,
               rtrim(substr(x.g, length(split_part(x.g, ':', 1)) + 2), '*') AS privilege,
               right(x.g, 1) = '*' AS grantable
          FROM (SELECT 'revoke' AS op, g FROM old_g WHERE g NOT IN (SELECT g FROM new_g)
                UNION ALL
                SELECT 'grant', g FROM new_g WHERE g NOT IN (SELECT g FROM old_g)) x
    ),
    rendered AS (
        SELECT p.op, p.g,
               CASE WHEN p.grantee_raw = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(p.grantee_raw) END AS grantee,
               p.privilege, p.grantable,
               CASE WHEN obj->>'kind' IN ('view', 'matview') THEN format('TABLE %I', obj->>'name')
                    ELSE pggit._object_ref(obj) END AS target
          FROM parsed p
    )
    SELECT coalesce(array_agg(
               CASE WHEN r.op = 'revoke' THEN format('REVOKE %s ON %s FROM %s', r.privilege, r.target, r.grantee)
                    ELSE format('GRANT %s ON %s TO %s%s', r.privilege, r.target, r.grantee,
                                CASE WHEN r.grantable THEN ' WITH GRANT OPTION' ELSE '' END) END
               ORDER BY r.op DESC, r.g), '{}')
      FROM rendered r
$fn$;

-- Sequence options of an identity column (`prefix` is '' for CREATE, 'SET ' for ALTER COLUMN); NULL when none.
CREATE OR REPLACE FUNCTION pggit._render_identity_options(opts jsonb, prefix text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE WHEN opts IS NULL OR jsonb_typeof(opts) <> 'object' THEN NULL ELSE
        format('%sSTART WITH %s %sINCREMENT BY %s %sMINVALUE %s %sMAXVALUE %s %sCACHE %s %s%s',
               prefix, opts->>'start', prefix, opts->>'increment', prefix, opts->>'min', prefix, opts->>'max',
               prefix, opts->>'cache', prefix, CASE WHEN (opts->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END)
    END
$fn$;

-- GRANT / REVOKE on one column: turns the column grant list `old_grants` into `new_grants`.
CREATE OR REPLACE FUNCTION pggit._render_column_grants(tbl text, col text, old_grants jsonb, new_grants jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    WITH
    old_g AS (SELECT g FROM jsonb_array_elements_text(coalesce(old_grants, '[]')) g),
    new_g AS (SELECT g FROM jsonb_array_elements_text(coalesce(new_grants, '[]')) g),
    parsed AS (
        SELECT x.op, x.g,
               CASE WHEN split_part(x.g, ':', 1) = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(split_part(x.g, ':', 1)) END
                   AS grantee,
               rtrim(substr(x.g, length(split_part(x.g, ':', 1)) + 2), '*') AS privilege,
               right(x.g, 1) = '*' AS grantable
          FROM (SELECT 'revoke' AS op, g FROM old_g WHERE g NOT IN (SELECT g FROM new_g)
                UNION ALL
                SELECT 'grant', g FROM new_g WHERE g NOT IN (SELECT g FROM old_g)) x
    )
    SELECT coalesce(array_agg(
               CASE WHEN p.op = 'revoke' THEN format('REVOKE %s (%I) ON TABLE %I FROM %s', p.privilege, col, tbl, p.grantee)
                    ELSE format('GRANT %s (%I) ON TABLE %I TO %s%s', p.privilege, col, tbl, p.grantee,
                                CASE WHEN p.grantable THEN ' WITH GRANT OPTION' ELSE '' END) END
               ORDER BY p.op DESC, p.g), '{}')
      FROM parsed p
$fn$;

-- Column grants of a table: from `old`'s columns (NULL: a new table) to `new`'s. They come after the
-- table-level GRANT/REVOKE, since a table-level REVOKE also takes the grantee's column privileges.
CREATE OR REPLACE FUNCTION pggit._render_table_column_grants(old jsonb, new jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT coalesce(array_agg(g.stmt ORDER BY c.name, g.n), '{}')
      FROM jsonb_each(coalesce(new->'columns', '{}')) AS c(name, col)
      CROSS JOIN LATERAL unnest(pggit._render_column_grants(new->>'name', c.name,
                                                            CASE WHEN old IS NULL THEN '[]'::jsonb
                                                                 ELSE old->'columns'->c.name->'grants' END,
                                                            c.col->'grants')) WITH ORDINALITY AS g(stmt, n)
$fn$;

-- One column definition of CREATE TABLE / ADD COLUMN.
CREATE OR REPLACE FUNCTION pggit._render_column(name text, col jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT format('%I %s', name, col->>'type')
        || CASE WHEN col->>'collation' IS NOT NULL THEN ' COLLATE ' || (col->>'collation') ELSE '' END
        || CASE WHEN col->>'generated' IS NOT NULL THEN format(' GENERATED ALWAYS AS (%s) STORED', col->>'generated')
                WHEN col->>'default' IS NOT NULL THEN ' DEFAULT ' || (col->>'default') ELSE '' END
        || CASE WHEN (col->>'not_null')::boolean THEN ' NOT NULL' ELSE '' END
        || CASE WHEN col->>'identity' IS NOT NULL
                THEN format(' GENERATED %s AS IDENTITY%s', upper(col->>'identity'),
                            coalesce(' (' || pggit._render_identity_options(col->'identity_options', '') || ')', ''))
                ELSE '' END
$fn$;

-- The column names of a table object in creation order (column_order, then any others by name).
CREATE OR REPLACE FUNCTION pggit._column_names(obj jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT coalesce(array_agg(c.name ORDER BY c.pos NULLS LAST, c.name), '{}')
      FROM (SELECT k.name, o.pos
              FROM jsonb_object_keys(coalesce(obj->'columns', '{}')) AS k(name)
              LEFT JOIN jsonb_array_elements_text(coalesce(obj->'column_order', '[]')) WITH ORDINALITY AS o(name, pos)
                     ON o.name = k.name) c
$fn$;

-- CREATE FUNCTION / PROCEDURE from its parts (a dollar-quote delimiter that the body does not contain).
CREATE OR REPLACE FUNCTION pggit._render_routine(obj jsonb, or_replace boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    is_proc boolean := obj->>'kind' = 'procedure';
    delim text := '$pggit$';
    n integer := 0;
    body text := obj->>'body';
    sql text;
    cfg text;
    cfg_name text;
    cfg_value text;
BEGIN
    WHILE position(delim IN body) > 0 LOOP
        n := n + 1;
        delim := '$pggit' || n || '$';
    END LOOP;
    sql := format('CREATE %s%s %I(%s)', CASE WHEN or_replace THEN 'OR REPLACE ' ELSE '' END,
                  CASE WHEN is_proc THEN 'PROCEDURE' ELSE 'FUNCTION' END, obj->>'name', obj->>'args');
    IF NOT is_proc THEN
        sql := sql || ' RETURNS ' || (obj->>'result');
    END IF;
    sql := sql || format(' LANGUAGE %I', obj->>'language');
    IF NOT is_proc THEN
        sql := sql || CASE obj->>'volatility' WHEN 'i' THEN ' IMMUTABLE' WHEN 's' THEN ' STABLE' ELSE ' VOLATILE' END
                   || CASE WHEN (obj->>'strict')::boolean THEN ' STRICT' ELSE '' END
                   || CASE WHEN (obj->>'leakproof')::boolean THEN ' LEAKPROOF' ELSE '' END
                   || CASE obj->>'parallel' WHEN 's' THEN ' PARALLEL SAFE' WHEN 'r' THEN ' PARALLEL RESTRICTED'
                                            ELSE ' PARALLEL UNSAFE' END
                   || ' COST ' || (obj->>'cost')
                   || CASE WHEN (obj->>'rows')::numeric > 0 THEN ' ROWS ' || (obj->>'rows') ELSE '' END;
    END IF;
    IF (obj->>'security_definer')::boolean THEN
        sql := sql || ' SECURITY DEFINER';
    END IF;
    FOR cfg IN SELECT jsonb_array_elements_text(coalesce(obj->'config', '[]')) LOOP
        cfg_name := split_part(cfg, '=', 1);
        cfg_value := substr(cfg, length(cfg_name) + 2);
        IF cfg_name IN ('search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries',
                        'shared_preload_libraries') THEN
            sql := sql || format(' SET %I TO %s', cfg_name, cfg_value);
        ELSE
            sql := sql || format(' SET %I TO %L', cfg_name, cfg_value);
        END IF;
    END LOOP;
    IF obj->>'body_kind' = 'sql' THEN
        sql := sql || E'\n' || body;
    ELSE
        sql := sql || E'\nAS ' || delim || body || delim;
    END IF;
    RETURN sql;
END
$fn$;

-- ALTER SEQUENCE ... OWNED BY (a separate step: it needs the owning table).
CREATE OR REPLACE FUNCTION pggit._render_sequence_owner(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE WHEN obj->>'owned_by' IS NULL THEN format('ALTER SEQUENCE %I OWNED BY NONE', obj->>'name')
                ELSE format('ALTER SEQUENCE %I OWNED BY %I.%I', obj->>'name',
                            split_part(obj->>'owned_by', '.', 1),
                            substr(obj->>'owned_by', length(split_part(obj->>'owned_by', '.', 1)) + 2)) END
$fn$;

-- The statements that create an object (with its comments and grants). Sequence ownership is not
-- included (see _render_sequence_owner).
CREATE OR REPLACE FUNCTION pggit._render_create(obj jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    kind text := obj->>'kind';
    out text[] := '{}';
    cols text[];
    col_name text;
    col jsonb;
    item text;
    def text;
BEGIN
    IF kind = 'table' THEN
        IF obj->>'partition_of' IS NOT NULL THEN
            out := out || format('CREATE TABLE %I PARTITION OF %I %s%s', obj->>'name', obj->>'partition_of',
                                 obj->>'partition_bound',
                                 CASE WHEN obj->>'partition_key' IS NOT NULL
                                      THEN ' PARTITION BY ' || (obj->>'partition_key') ELSE '' END);
        ELSE
            cols := '{}';
            FOREACH col_name IN ARRAY pggit._column_names(obj) LOOP
                cols := cols || pggit._render_column(col_name, obj->'columns'->col_name);
            END LOOP;
            out := out || format('CREATE %sTABLE %I (%s)%s',
                                 CASE WHEN obj->>'persistence' = 'unlogged' THEN 'UNLOGGED ' ELSE '' END,
                                 obj->>'name', array_to_string(cols, ', '),
                                 CASE WHEN obj->>'partition_key' IS NOT NULL
                                      THEN ' PARTITION BY ' || (obj->>'partition_key') ELSE '' END);
        END IF;
        IF (obj->>'rls_enabled')::boolean THEN
            out := out || format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', obj->>'name');
        END IF;
        IF (obj->>'rls_forced')::boolean THEN
            out := out || format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', obj->>'name');
        END IF;
        IF obj->>'comment' IS NOT NULL THEN
            out := out || pggit._render_comment(obj);
        END IF;
        FOR col_name, col IN SELECT key, value FROM jsonb_each(coalesce(obj->'columns', '{}')) ORDER BY key LOOP
            IF col->>'comment' IS NOT NULL THEN
                out := out || format('COMMENT ON COLUMN %I.%I IS %L', obj->>'name', col_name, col->>'comment');
            END IF;
        END LOOP;
    ELSIF kind = 'sequence' THEN
        out := out || format('CREATE SEQUENCE %I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s',
                             obj->>'name', obj->>'type', obj->>'increment', obj->>'min', obj->>'max',
                             obj->>'start', obj->>'cache',
                             CASE WHEN (obj->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END);
    ELSIF kind = 'index' THEN
        out := out || (obj->>'definition');
    ELSIF kind = 'constraint' THEN
        out := out || format('ALTER TABLE %I ADD CONSTRAINT %I %s', obj->>'table', obj->>'name', obj->>'definition');
    ELSIF kind IN ('view', 'matview') THEN
        def := rtrim(obj->>'definition', E'; \n');
        IF kind = 'view' THEN
            out := out || format('CREATE VIEW %I%s AS%s', obj->>'name',
                                 CASE WHEN jsonb_array_length(coalesce(obj->'options', '[]')) > 0
                                      THEN ' WITH (' || (SELECT string_agg(o, ', ') FROM jsonb_array_elements_text(obj->'options') o) || ')'
                                      ELSE '' END,
                                 CASE WHEN left(def, 1) = ' ' THEN '' ELSE ' ' END || def);
        ELSE
            out := out || format('CREATE MATERIALIZED VIEW %I%s AS%s', obj->>'name',
                                 CASE WHEN jsonb_array_length(coalesce(obj->'options', '[]')) > 0
                                      THEN ' WITH (' || (SELECT string_agg(o, ', ') FROM jsonb_array_elements_text(obj->'options') o) || ')'
                                      ELSE '' END,
                                 CASE WHEN left(def, 1) = ' ' THEN '' ELSE ' ' END || def);
        END IF;
    ELSIF kind IN ('function', 'procedure') THEN
        out := out || pggit._render_routine(obj, false);
    ELSIF kind = 'trigger' THEN
        out := out || (obj->>'definition');
        IF obj->>'enabled' IS DISTINCT FROM 'O' THEN
            out := out || pggit._render_trigger_enabled(obj);
        END IF;
    ELSIF kind = 'policy' THEN
        out := out || format('CREATE POLICY %I ON %I AS %s FOR %s TO %s%s%s', obj->>'name', obj->>'table',
                             CASE WHEN (obj->>'permissive')::boolean THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                             obj->>'command',
                             (SELECT string_agg(CASE WHEN r = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ' ORDER BY r)
                                FROM jsonb_array_elements_text(coalesce(obj->'roles', '["PUBLIC"]')) r),
                             CASE WHEN obj->>'using' IS NOT NULL THEN format(' USING (%s)', obj->>'using') ELSE '' END,
                             CASE WHEN obj->>'with_check' IS NOT NULL THEN format(' WITH CHECK (%s)', obj->>'with_check') ELSE '' END);
    ELSIF kind = 'enum' THEN
        out := out || format('CREATE TYPE %I AS ENUM (%s)', obj->>'name',
                             coalesce((SELECT string_agg(quote_literal(v), ', ' ORDER BY n)
                                         FROM jsonb_array_elements_text(obj->'values') WITH ORDINALITY AS e(v, n)), ''));
    ELSIF kind = 'domain' THEN
        def := format('CREATE DOMAIN %I AS %s', obj->>'name', obj->>'type');
        IF obj->>'collation' IS NOT NULL THEN def := def || ' COLLATE ' || (obj->>'collation'); END IF;
        IF obj->>'default' IS NOT NULL THEN def := def || ' DEFAULT ' || (obj->>'default'); END IF;
        IF (obj->>'not_null')::boolean THEN def := def || ' NOT NULL'; END IF;
        FOR col_name, item IN SELECT key, value FROM jsonb_each_text(coalesce(obj->'checks', '{}')) ORDER BY key LOOP
            def := def || format(' CONSTRAINT %I %s', col_name, item);
        END LOOP;
        out := out || def;
    ELSIF kind = 'composite' THEN
        out := out || format('CREATE TYPE %I AS (%s)', obj->>'name',
                             coalesce((SELECT string_agg(format('%I %s', a->>'name', a->>'type')
                                                         || CASE WHEN a->>'collation' IS NOT NULL
                                                                 THEN ' COLLATE ' || (a->>'collation') ELSE '' END,
                                                         ', ' ORDER BY n)
                                         FROM jsonb_array_elements(obj->'attributes') WITH ORDINALITY AS x(a, n)), ''));
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = format('cannot render an object of kind %L', kind),
              HINT = 'the kinds are listed in docs/snapshot-format.md';
    END IF;
    IF kind NOT IN ('table') AND obj->>'comment' IS NOT NULL THEN
        out := out || pggit._render_comment(obj);
    END IF;
    IF obj ? 'grants' THEN
        out := out || pggit._render_grants(obj, pggit._default_grants(kind));
    END IF;
    IF kind = 'table' THEN
        out := out || pggit._render_table_column_grants(NULL, obj);
    END IF;
    RETURN out;
END
$fn$;

-- ALTER TABLE ... ENABLE/DISABLE TRIGGER for a trigger's `enabled` state.
CREATE OR REPLACE FUNCTION pggit._render_trigger_enabled(obj jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT format('ALTER TABLE %I %s TRIGGER %I', obj->>'table',
                  CASE obj->>'enabled' WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA'
                                       WHEN 'A' THEN 'ENABLE ALWAYS' ELSE 'ENABLE' END,
                  obj->>'name')
$fn$;

-- The statement that drops an object.
CREATE OR REPLACE FUNCTION pggit._render_drop(obj jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    kind text := obj->>'kind';
BEGIN
    RETURN ARRAY[CASE kind
        WHEN 'table' THEN format('DROP TABLE %I', obj->>'name')
        WHEN 'view' THEN format('DROP VIEW %I', obj->>'name')
        WHEN 'matview' THEN format('DROP MATERIALIZED VIEW %I', obj->>'name')
        WHEN 'sequence' THEN format('DROP SEQUENCE %I', obj->>'name')
        WHEN 'index' THEN format('DROP INDEX %I', obj->>'name')
        WHEN 'constraint' THEN format('ALTER TABLE %I DROP CONSTRAINT %I', obj->>'table', obj->>'name')
        WHEN 'trigger' THEN format('DROP TRIGGER %I ON %I', obj->>'name', obj->>'table')
        WHEN 'policy' THEN format('DROP POLICY %I ON %I', obj->>'name', obj->>'table')
        WHEN 'function' THEN format('DROP FUNCTION %I(%s)', obj->>'name', obj->>'identity_args')
        WHEN 'procedure' THEN format('DROP PROCEDURE %I(%s)', obj->>'name', obj->>'identity_args')
        WHEN 'enum' THEN format('DROP TYPE %I', obj->>'name')
        WHEN 'composite' THEN format('DROP TYPE %I', obj->>'name')
        WHEN 'domain' THEN format('DROP DOMAIN %I', obj->>'name')
    END];
END
$fn$;

-- The object without the fields that are not compared (derived `deps`, `column_order`).
CREATE OR REPLACE FUNCTION pggit._comparable(obj jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT obj - 'deps' - 'column_order'
$fn$;

-- The fields that differ: top-level names, `columns.<name>` for added/removed columns and
-- `columns.<name>.<field>` for changed ones.
CREATE OR REPLACE FUNCTION pggit._changed_fields(old jsonb, new jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    WITH cols AS (
        SELECT CASE WHEN old->>'kind' = 'table' AND jsonb_typeof(old->'columns') = 'object' THEN old->'columns'
                    ELSE '{}'::jsonb END AS o,
               CASE WHEN new->>'kind' = 'table' AND jsonb_typeof(new->'columns') = 'object' THEN new->'columns'
                    ELSE '{}'::jsonb END AS n,
               old->>'kind' = 'table' AND new->>'kind' = 'table' AS tables
    )
    SELECT coalesce(array_agg(f ORDER BY f), '{}') FROM (
        SELECT k AS f
          FROM cols,
               (SELECT jsonb_object_keys(pggit._comparable(old))
                UNION SELECT jsonb_object_keys(pggit._comparable(new))) x(k)
         WHERE (k <> 'columns' OR NOT cols.tables) AND (old->k) IS DISTINCT FROM (new->k)
        UNION ALL
        SELECT 'columns.' || c
          FROM cols, (SELECT jsonb_object_keys(cols.o) FROM cols UNION SELECT jsonb_object_keys(cols.n) FROM cols) y(c)
         WHERE cols.tables AND (cols.o->c IS NULL) <> (cols.n->c IS NULL)
        UNION ALL
        SELECT 'columns.' || c || '.' || fk
          FROM cols,
               (SELECT jsonb_object_keys(cols.o) FROM cols INTERSECT SELECT jsonb_object_keys(cols.n) FROM cols) y(c),
               LATERAL (SELECT jsonb_object_keys(cols.o->c) UNION SELECT jsonb_object_keys(cols.n->c)) z(fk)
         WHERE cols.tables AND (cols.o->c->fk) IS DISTINCT FROM (cols.n->c->fk)
    ) s
$fn$;

-- Whether changing old into new needs DROP + CREATE (true) rather than statements in place.
CREATE OR REPLACE FUNCTION pggit._needs_replace(old jsonb, new jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    kind text := new->>'kind';
    old_values text[];
    new_values text[];
    kept text[];
    old_attrs jsonb;
    new_attrs jsonb;
BEGIN
    IF old->>'kind' IS DISTINCT FROM kind THEN
        RETURN true;
    END IF;
    IF kind = 'table' THEN
        RETURN (old->>'partition_key') IS DISTINCT FROM (new->>'partition_key');
    ELSIF kind = 'view' THEN
        -- CREATE OR REPLACE VIEW may only add columns at the end, with the old names and types kept.
        RETURN jsonb_array_length(new->'columns') < jsonb_array_length(old->'columns')
            OR EXISTS (SELECT 1 FROM jsonb_array_elements(old->'columns') WITH ORDINALITY o(c, n)
                        WHERE (new->'columns'->((n - 1)::int)) IS DISTINCT FROM o.c);
    ELSIF kind = 'matview' THEN
        RETURN (old->>'definition') IS DISTINCT FROM (new->>'definition')
            OR (old->'options') IS DISTINCT FROM (new->'options');
    ELSIF kind IN ('function', 'procedure') THEN
        RETURN (old->>'result') IS DISTINCT FROM (new->>'result') OR (old->>'args') IS DISTINCT FROM (new->>'args');
    ELSIF kind = 'index' THEN
        RETURN (old->>'definition') IS DISTINCT FROM (new->>'definition');
    ELSIF kind = 'constraint' THEN
        RETURN (old->>'definition') IS DISTINCT FROM (new->>'definition')
           AND (old->>'definition') IS DISTINCT FROM ((new->>'definition') || ' NOT VALID');
    ELSIF kind = 'trigger' THEN
        RETURN (old->>'definition') IS DISTINCT FROM (new->>'definition');
    ELSIF kind = 'policy' THEN
        RETURN pggit._comparable(old) - 'comment' IS DISTINCT FROM pggit._comparable(new) - 'comment';
    ELSIF kind = 'enum' THEN
        -- Values can only be added: the old values must keep their order inside the new list.
        SELECT array_agg(v ORDER BY n) INTO old_values FROM jsonb_array_elements_text(old->'values') WITH ORDINALITY e(v, n);
        SELECT array_agg(v ORDER BY n) INTO new_values FROM jsonb_array_elements_text(new->'values') WITH ORDINALITY e(v, n);
        SELECT array_agg(v ORDER BY n) INTO kept FROM unnest(new_values) WITH ORDINALITY e(v, n)
         WHERE v = ANY (coalesce(old_values, '{}'));
        RETURN coalesce(kept, '{}') IS DISTINCT FROM coalesce(old_values, '{}');
    ELSIF kind = 'domain' THEN
        RETURN (old->>'type') IS DISTINCT FROM (new->>'type') OR (old->>'collation') IS DISTINCT FROM (new->>'collation');
    ELSIF kind = 'composite' THEN
        -- In place: kept attributes keep their order, new ones are appended.
        old_attrs := old->'attributes';
        new_attrs := new->'attributes';
        RETURN (SELECT coalesce(jsonb_agg(o.a->'name' ORDER BY o.n), '[]')
                  FROM jsonb_array_elements(old_attrs) WITH ORDINALITY o(a, n)
                 WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(new_attrs) x WHERE x->'name' = o.a->'name'))
               || (SELECT coalesce(jsonb_agg(x.a->'name' ORDER BY x.n), '[]')
                     FROM jsonb_array_elements(new_attrs) WITH ORDINALITY x(a, n)
                    WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(old_attrs) o WHERE o->'name' = x.a->'name'))
               IS DISTINCT FROM (SELECT coalesce(jsonb_agg(x.a->'name' ORDER BY x.n), '[]')
                                   FROM jsonb_array_elements(new_attrs) WITH ORDINALITY x(a, n));
    END IF;
    RETURN false;
END
$fn$;

-- ALTER TABLE statements for one table, column by column.
CREATE OR REPLACE FUNCTION pggit._render_alter_table(old jsonb, new jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    t text := new->>'name';
    out text[] := '{}';
    c text;
    oc jsonb;
    nc jsonb;
    type_changed boolean;
BEGIN
    IF (old->>'partition_of') IS NOT NULL AND ((old->>'partition_of') IS DISTINCT FROM (new->>'partition_of')
                                               OR (old->>'partition_bound') IS DISTINCT FROM (new->>'partition_bound')) THEN
        out := out || format('ALTER TABLE %I DETACH PARTITION %I', old->>'partition_of', t);
    END IF;
    -- dropped columns
    FOREACH c IN ARRAY pggit._column_names(old) LOOP
        IF new->'columns'->c IS NULL THEN
            out := out || format('ALTER TABLE %I DROP COLUMN %I', t, c);
        END IF;
    END LOOP;
    FOREACH c IN ARRAY pggit._column_names(new) LOOP
        oc := old->'columns'->c;
        nc := new->'columns'->c;
        IF oc IS NULL THEN
            out := out || format('ALTER TABLE %I ADD COLUMN %s', t, pggit._render_column(c, nc));
            IF nc->>'comment' IS NOT NULL THEN
                out := out || format('COMMENT ON COLUMN %I.%I IS %L', t, c, nc->>'comment');
            END IF;
            CONTINUE;
        END IF;
        IF oc = nc THEN
            CONTINUE;
        END IF;
        IF (oc->>'generated') IS DISTINCT FROM (nc->>'generated') THEN
            IF nc->>'generated' IS NULL THEN
                out := out || format('ALTER TABLE %I ALTER COLUMN %I DROP EXPRESSION', t, c);
                oc := jsonb_set(oc, '{generated}', 'null');
            ELSE
                out := out || format('ALTER TABLE %I DROP COLUMN %I', t, c)
                           || format('ALTER TABLE %I ADD COLUMN %s', t, pggit._render_column(c, nc));
                IF nc->>'comment' IS NOT NULL THEN
                    out := out || format('COMMENT ON COLUMN %I.%I IS %L', t, c, nc->>'comment');
                END IF;
                CONTINUE;
            END IF;
        END IF;
        type_changed := (oc->>'type') IS DISTINCT FROM (nc->>'type') OR (oc->>'collation') IS DISTINCT FROM (nc->>'collation');
        IF oc->>'identity' IS NOT NULL AND nc->>'identity' IS NULL THEN
            out := out || format('ALTER TABLE %I ALTER COLUMN %I DROP IDENTITY', t, c);
        END IF;
        IF type_changed AND oc->>'default' IS NOT NULL AND (oc->>'default') IS DISTINCT FROM (nc->>'default') THEN
            out := out || format('ALTER TABLE %I ALTER COLUMN %I DROP DEFAULT', t, c);
            oc := jsonb_set(oc, '{default}', 'null');
        END IF;
        IF type_changed THEN
            out := out || format('ALTER TABLE %I ALTER COLUMN %I TYPE %s%s USING %I::%s', t, c, nc->>'type',
                                 CASE WHEN nc->>'collation' IS NOT NULL THEN ' COLLATE ' || (nc->>'collation') ELSE '' END,
                                 c, nc->>'type');
        END IF;
        IF (oc->>'default') IS DISTINCT FROM (nc->>'default') THEN
            out := out || CASE WHEN nc->>'default' IS NULL
                               THEN format('ALTER TABLE %I ALTER COLUMN %I DROP DEFAULT', t, c)
                               ELSE format('ALTER TABLE %I ALTER COLUMN %I SET DEFAULT %s', t, c, nc->>'default') END;
        END IF;
        IF (oc->>'not_null')::boolean AND NOT (nc->>'not_null')::boolean THEN
            out := out || format('ALTER TABLE %I ALTER COLUMN %I DROP NOT NULL', t, c);
        ELSIF NOT (oc->>'not_null')::boolean AND (nc->>'not_null')::boolean THEN
            out := out || format('ALTER TABLE %I ALTER COLUMN %I SET NOT NULL', t, c);
        END IF;
        IF oc->>'identity' IS NULL AND nc->>'identity' IS NOT NULL THEN
            out := out || format('ALTER TABLE %I ALTER COLUMN %I ADD GENERATED %s AS IDENTITY%s', t, c, upper(nc->>'identity'),
                                 coalesce(' (' || pggit._render_identity_options(nc->'identity_options', '') || ')', ''));
        ELSIF oc->>'identity' IS NOT NULL AND nc->>'identity' IS NOT NULL THEN
            IF (oc->>'identity') <> (nc->>'identity') THEN
                out := out || format('ALTER TABLE %I ALTER COLUMN %I SET GENERATED %s', t, c, upper(nc->>'identity'));
            END IF;
            IF (oc->'identity_options') IS DISTINCT FROM (nc->'identity_options') AND nc->'identity_options' IS NOT NULL
               AND jsonb_typeof(nc->'identity_options') = 'object' THEN
                out := out || format('ALTER TABLE %I ALTER COLUMN %I %s', t, c,
                                     pggit._render_identity_options(nc->'identity_options', 'SET '));
            END IF;
        END IF;
        IF (oc->>'comment') IS DISTINCT FROM (nc->>'comment') THEN
            out := out || format('COMMENT ON COLUMN %I.%I IS %s', t, c, coalesce(quote_literal(nc->>'comment'), 'NULL'));
        END IF;
    END LOOP;
    IF (old->>'persistence') IS DISTINCT FROM (new->>'persistence') THEN
        out := out || format('ALTER TABLE %I SET %s', t, CASE WHEN new->>'persistence' = 'unlogged' THEN 'UNLOGGED' ELSE 'LOGGED' END);
    END IF;
    IF (old->>'rls_enabled') IS DISTINCT FROM (new->>'rls_enabled') THEN
        out := out || format('ALTER TABLE %I %s ROW LEVEL SECURITY', t,
                             CASE WHEN (new->>'rls_enabled')::boolean THEN 'ENABLE' ELSE 'DISABLE' END);
    END IF;
    IF (old->>'rls_forced') IS DISTINCT FROM (new->>'rls_forced') THEN
        out := out || format('ALTER TABLE %I %s ROW LEVEL SECURITY', t,
                             CASE WHEN (new->>'rls_forced')::boolean THEN 'FORCE' ELSE 'NO FORCE' END);
    END IF;
    IF (new->>'partition_of') IS NOT NULL AND ((old->>'partition_of') IS DISTINCT FROM (new->>'partition_of')
                                               OR (old->>'partition_bound') IS DISTINCT FROM (new->>'partition_bound')) THEN
        out := out || format('ALTER TABLE %I ATTACH PARTITION %I %s', new->>'partition_of', t, new->>'partition_bound');
    END IF;
    RETURN out;
END
$fn$;

-- Statements that change `old` into `new` in place when that is possible (see _needs_replace);
-- otherwise DROP then CREATE. Sequence ownership is not included (see _render_sequence_owner).
CREATE OR REPLACE FUNCTION pggit._render_alter(old jsonb, new jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    kind text := new->>'kind';
    out text[] := '{}';
    item text;
    nm text;
    prev text;
    nxt text;
    o jsonb;
    n jsonb;
    pos bigint;
BEGIN
    IF pggit._comparable(old) = pggit._comparable(new) THEN
        RETURN out;
    END IF;
    IF pggit._needs_replace(old, new) THEN
        RETURN pggit._render_drop(old) || pggit._render_create(new);
    END IF;
    IF kind = 'table' THEN
        out := out || pggit._render_alter_table(old, new);
    ELSIF kind = 'sequence' THEN
        item := concat_ws(' ',
            CASE WHEN (old->>'type') IS DISTINCT FROM (new->>'type') THEN 'AS ' || (new->>'type') END,
            CASE WHEN (old->>'increment') IS DISTINCT FROM (new->>'increment') THEN 'INCREMENT BY ' || (new->>'increment') END,
            CASE WHEN (old->>'min') IS DISTINCT FROM (new->>'min') THEN 'MINVALUE ' || (new->>'min') END,
            CASE WHEN (old->>'max') IS DISTINCT FROM (new->>'max') THEN 'MAXVALUE ' || (new->>'max') END,
            CASE WHEN (old->>'start') IS DISTINCT FROM (new->>'start') THEN 'START WITH ' || (new->>'start') END,
            CASE WHEN (old->>'cache') IS DISTINCT FROM (new->>'cache') THEN 'CACHE ' || (new->>'cache') END,
            CASE WHEN (old->>'cycle') IS DISTINCT FROM (new->>'cycle')
                 THEN CASE WHEN (new->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END END);
        IF item <> '' THEN
            out := out || format('ALTER SEQUENCE %I %s', new->>'name', item);
        END IF;
    ELSIF kind = 'view' THEN
        IF (old->>'definition') IS DISTINCT FROM (new->>'definition') OR (old->'columns') IS DISTINCT FROM (new->'columns') THEN
            out := out || regexp_replace((pggit._render_create(new))[1], '^CREATE VIEW', 'CREATE OR REPLACE VIEW');
        ELSIF (old->'options') IS DISTINCT FROM (new->'options') THEN
            FOR item IN SELECT jsonb_array_elements_text(old->'options') EXCEPT SELECT jsonb_array_elements_text(new->'options') LOOP
                out := out || format('ALTER VIEW %I RESET (%s)', new->>'name', split_part(item, '=', 1));
            END LOOP;
            FOR item IN SELECT jsonb_array_elements_text(new->'options') EXCEPT SELECT jsonb_array_elements_text(old->'options') LOOP
                out := out || format('ALTER VIEW %I SET (%s)', new->>'name', item);
            END LOOP;
        END IF;
    ELSIF kind IN ('function', 'procedure') THEN
        IF pggit._comparable(old) - 'comment' - 'grants' IS DISTINCT FROM pggit._comparable(new) - 'comment' - 'grants' THEN
            out := out || pggit._render_routine(new, true);
        END IF;
    ELSIF kind = 'constraint' THEN
        IF (old->>'definition') IS DISTINCT FROM (new->>'definition') THEN
            out := out || format('ALTER TABLE %I VALIDATE CONSTRAINT %I', new->>'table', new->>'name');
        END IF;
    ELSIF kind = 'trigger' THEN
        IF (old->>'enabled') IS DISTINCT FROM (new->>'enabled') THEN
            out := out || pggit._render_trigger_enabled(new);
        END IF;
    ELSIF kind = 'enum' THEN
        prev := NULL;
        FOR item, pos IN SELECT v, k FROM jsonb_array_elements_text(new->'values') WITH ORDINALITY e(v, k) ORDER BY k LOOP
            IF NOT (old->'values') ? item THEN
                IF prev IS NOT NULL THEN
                    out := out || format('ALTER TYPE %I ADD VALUE %L AFTER %L', new->>'name', item, prev);
                ELSE
                    nxt := new->'values'->>(pos::int);
                    out := out || CASE WHEN nxt IS NULL THEN format('ALTER TYPE %I ADD VALUE %L', new->>'name', item)
                                       ELSE format('ALTER TYPE %I ADD VALUE %L BEFORE %L', new->>'name', item, nxt) END;
                END IF;
            END IF;
            prev := item;
        END LOOP;
    ELSIF kind = 'domain' THEN
        IF (old->>'default') IS DISTINCT FROM (new->>'default') THEN
            out := out || CASE WHEN new->>'default' IS NULL THEN format('ALTER DOMAIN %I DROP DEFAULT', new->>'name')
                               ELSE format('ALTER DOMAIN %I SET DEFAULT %s', new->>'name', new->>'default') END;
        END IF;
        IF (old->>'not_null') IS DISTINCT FROM (new->>'not_null') THEN
            out := out || format('ALTER DOMAIN %I %s NOT NULL', new->>'name',
                                 CASE WHEN (new->>'not_null')::boolean THEN 'SET' ELSE 'DROP' END);
        END IF;
        FOR nm, item IN SELECT key, value FROM jsonb_each_text(coalesce(old->'checks', '{}')) ORDER BY key LOOP
            IF (new->'checks'->>nm) IS DISTINCT FROM item THEN
                out := out || format('ALTER DOMAIN %I DROP CONSTRAINT %I', new->>'name', nm);
            END IF;
        END LOOP;
        FOR nm, item IN SELECT key, value FROM jsonb_each_text(coalesce(new->'checks', '{}')) ORDER BY key LOOP
            IF (old->'checks'->>nm) IS DISTINCT FROM item THEN
                out := out || format('ALTER DOMAIN %I ADD CONSTRAINT %I %s', new->>'name', nm, item);
            END IF;
        END LOOP;
    ELSIF kind = 'composite' THEN
        FOR o IN SELECT a FROM jsonb_array_elements(old->'attributes') a LOOP
            IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(new->'attributes') x WHERE x->'name' = o->'name') THEN
                out := out || format('ALTER TYPE %I DROP ATTRIBUTE %I', new->>'name', o->>'name');
            END IF;
        END LOOP;
        FOR n IN SELECT a FROM jsonb_array_elements(new->'attributes') a LOOP
            SELECT x INTO o FROM jsonb_array_elements(old->'attributes') x WHERE x->'name' = n->'name';
            IF o IS NULL THEN
                out := out || format('ALTER TYPE %I ADD ATTRIBUTE %I %s%s', new->>'name', n->>'name', n->>'type',
                                     CASE WHEN n->>'collation' IS NOT NULL THEN ' COLLATE ' || (n->>'collation') ELSE '' END);
            ELSIF o IS DISTINCT FROM n THEN
                out := out || format('ALTER TYPE %I ALTER ATTRIBUTE %I TYPE %s%s', new->>'name', n->>'name', n->>'type',
                                     CASE WHEN n->>'collation' IS NOT NULL THEN ' COLLATE ' || (n->>'collation') ELSE '' END);
            END IF;
        END LOOP;
    END IF;
    IF (old->>'comment') IS DISTINCT FROM (new->>'comment') THEN
        out := out || pggit._render_comment(new);
    END IF;
    IF new ? 'grants' AND (old->'grants') IS DISTINCT FROM (new->'grants') THEN
        out := out || pggit._render_grants(new, old->'grants');
    END IF;
    IF kind = 'table' THEN
        -- a column dropped and added again (generated expression change) starts with no grants
        out := out || pggit._render_table_column_grants(
            jsonb_set(old, '{columns}', (
                SELECT coalesce(jsonb_object_agg(c.key, CASE
                           WHEN (c.value->>'generated') IS DISTINCT FROM (new->'columns'->c.key->>'generated')
                                AND new->'columns'->c.key->>'generated' IS NOT NULL
                           THEN c.value - 'grants' ELSE c.value END), '{}')
                  FROM jsonb_each(coalesce(old->'columns', '{}')) c)),
            new);
    END IF;
    RETURN out;
END
$fn$;

-- Creation phase of an object: the coarse order of creates (x1000), refined by `deps` in _plan.
CREATE OR REPLACE FUNCTION pggit._create_phase(obj jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT CASE obj->>'kind'
        WHEN 'enum' THEN 1 WHEN 'domain' THEN 1 WHEN 'composite' THEN 1
        WHEN 'function' THEN 2 WHEN 'procedure' THEN 2
        WHEN 'sequence' THEN 3
        WHEN 'table' THEN 4
        WHEN 'constraint' THEN CASE WHEN obj->>'type' = 'f' THEN 8 ELSE 6 END
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
    rebuild jsonb := '{}';       -- key -> true: unchanged/changed dependents dropped and created again
    modes jsonb;                 -- key -> create / drop / replace / alter / none
    ra jsonb := '{}';            -- ranks in from_doc
    rb jsonb := '{}';            -- ranks in to_doc
BEGIN
    SELECT coalesce(jsonb_object_agg(x.k, CASE WHEN a->x.k IS NULL THEN 'added' WHEN b->x.k IS NULL THEN 'removed'
                                               WHEN pggit._comparable(a->x.k) = pggit._comparable(b->x.k) THEN 'same'
                                               ELSE 'changed' END), '{}')
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
                    AND coalesce(m.old->>'type', '') <> 'f')
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
