-- alter.sql: DDL that changes one snapshot object into another (docs/snapshot-format.md): which fields
-- differ, whether the change needs DROP + CREATE, and the in-place ALTER statements otherwise. Relative to
-- search_path like render.sql, identifiers via %I. Used by plan.sql. Idempotent (CREATE OR REPLACE only).

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
    out text[] := '{}'::text[];
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
    out text[] := '{}'::text[];
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
