-- render.sql: DDL that creates or drops one snapshot object (docs/snapshot-format.md), with its comments
-- and grants, all relative to search_path (the branch's own objects are never schema-qualified),
-- identifiers via %I. alter.sql changes one object, plan.sql orders the statements of a whole document.
-- Idempotent (CREATE OR REPLACE only).

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
    out text[] := '{}'::text[];
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
