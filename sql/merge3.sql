-- merge3.sql: the three-way decision, in one place. pggit._merge3(base, ours, theirs) maps every object to
-- its base, ours and theirs value and decides with pggit._pick3 (engine.sql): objects one side changed are
-- taken from it; tables both sides changed are merged field by field and column by column
-- (_merge3_table), enums value by value (_merge_enum_values); everything else both sides changed is a
-- conflict. Then the cross-object checks: indexes and foreign keys both sides added on one table, and
-- objects one side changed that depend on what the other side changed or removed. Pure (documents in,
-- document and conflicts out); pggit.merge (merge.sql) records and applies the result. Idempotent.
--
-- Vocabulary: base = the merge base commit's snapshot, ours = the target now, theirs = the source now.
-- Conflicts name paths (engine.sql). In _merge3's merged document every conflicting path holds ours'
-- value (the target unchanged there), except auto-resolvable conflicts, whose automatic resolution (keep
-- both) is already in it. A resolution 'ours' / 'theirs' copies that side's value at every path of the
-- conflict; 'custom' keeps ours' value and runs the recorded custom SQL after the merge's own statements.

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
        WHEN kind IN ('sequence', 'index', 'constraint', 'trigger', 'policy') THEN upper(kind)
        ELSE 'OBJECT'  -- a kind outside pggit.conflict_kinds (metadata.sql) is never recorded as itself
    END
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
    og jsonb := '{}'::jsonb;  -- gap index (number of base values before it) -> inserted values, per side
    tg jsonb := '{}'::jsonb;
    gap integer;
    v text;
    result text[] := '{}'::text[];
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
    conflicts jsonb := '[]'::jsonb;
    f text;
    bf jsonb; of jsonb; tf jsonb;
    added_o jsonb := '[]'::jsonb;
    added_t jsonb := '[]'::jsonb;
    kind text := coalesce(o ->> 'kind', t ->> 'kind');
    pick text;
BEGIN
    FOR f IN SELECT k FROM (SELECT jsonb_object_keys(coalesce(b, '{}')) UNION SELECT jsonb_object_keys(o)
                            UNION SELECT jsonb_object_keys(t)) AS u(k)
              WHERE k NOT IN ('columns', 'deps', 'column_order') ORDER BY 1 LOOP
        bf := b -> f; of := o -> f; tf := t -> f;
        pick := pggit._pick3(bf, of, tf);
        IF pick = 'ours' THEN
            CONTINUE;  -- m already holds ours' value
        ELSIF pick = 'theirs' THEN
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
        pick := pggit._pick3(bf, of, tf);
        IF pick = 'ours' THEN
            CONTINUE;
        ELSIF pick = 'theirs' THEN
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

-- Three-way merge of snapshot documents: {"merged": doc, "conflicts": [...], "changes": [...]}.
-- `changes` lists what the merged document changes in ours (the target): [{key, change}].
CREATE OR REPLACE FUNCTION pggit._merge3(base jsonb, ours jsonb, theirs jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    bo jsonb := coalesce(base -> 'objects', '{}');
    oo jsonb := coalesce(ours -> 'objects', '{}');
    tobj jsonb := coalesce(theirs -> 'objects', '{}');
    merged jsonb := coalesce(ours, '{}') || jsonb_build_object('objects', '{}'::jsonb);
    mo jsonb := '{}'::jsonb;
    conflicts jsonb := '[]'::jsonb;
    changes jsonb := '[]'::jsonb;
    k text;
    b jsonb; o jsonb; t jsonb; m jsonb;
    r jsonb;
    kind text;
    ctype text;
    changed_o jsonb := '{}'::jsonb;  -- path text -> path, changed by ours relative to base
    changed_t jsonb := '{}'::jsonb;
    dep text;
    dp jsonb;
    in_conflict jsonb := '{}'::jsonb;
    both_keys text[];
    patch_keys text[] := '{}'::text[];
    patch_vals jsonb[] := '{}'::jsonb[];
    x record;
BEGIN
    -- set-based first: every object changed on at most one side (or identically on both)
    SELECT coalesce(jsonb_object_agg(u.k, CASE u.pick WHEN 'ours' THEN u.o ELSE u.t END)
                        FILTER (WHERE u.pick <> 'both' AND CASE u.pick WHEN 'ours' THEN u.o ELSE u.t END IS NOT NULL), '{}'),
           coalesce(jsonb_object_agg(u.k, jsonb_build_object('key', u.k))
                        FILTER (WHERE u.t IS NOT DISTINCT FROM u.b AND u.o IS DISTINCT FROM u.b), '{}'),
           coalesce(jsonb_object_agg(u.k, jsonb_build_object('key', u.k))
                        FILTER (WHERE u.pick = 'theirs'), '{}'),
           coalesce(array_agg(u.k ORDER BY u.k) FILTER (WHERE u.pick = 'both'), '{}')
      INTO mo, changed_o, changed_t, both_keys
      FROM (SELECT coalesce(eo.k, et.k, eb.k) AS k, eb.v AS b, eo.v AS o, et.v AS t, pggit._pick3(eb.v, eo.v, et.v) AS pick
              FROM jsonb_each(oo) AS eo(k, v)
              FULL JOIN jsonb_each(tobj) AS et(k, v) ON et.k = eo.k
              FULL JOIN jsonb_each(bo) AS eb(k, v) ON eb.k = coalesce(eo.k, et.k)) AS u;

    -- then the objects both sides changed differently, one by one
    FOREACH k IN ARRAY both_keys LOOP
        b := bo -> k; o := oo -> k; t := tobj -> k;
        kind := coalesce(o ->> 'kind', t ->> 'kind', b ->> 'kind', pggit._key_kind(k));
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
    FOR x IN WITH ao AS (SELECT e.key, e.value, pggit._key_kind(e.key) AS kind, pggit._table_key(e.value) AS tk
                           FROM jsonb_each(changed_o) AS c(key, p) JOIN jsonb_each(oo) AS e ON e.key = c.key
                          WHERE NOT bo ? e.key AND pggit._key_kind(e.key) IN ('index', 'constraint')),
                  at AS (SELECT e.key, e.value, pggit._key_kind(e.key) AS kind, pggit._table_key(e.value) AS tk
                           FROM jsonb_each(changed_t) AS c(key, p) JOIN jsonb_each(tobj) AS e ON e.key = c.key
                          WHERE NOT bo ? e.key AND pggit._key_kind(e.key) IN ('index', 'constraint'))
             SELECT ao.key AS ok, at.key AS tk, ao.value AS ov, at.value AS tv
               FROM ao JOIN at ON ao.kind = at.kind AND ao.tk = at.tk AND ao.key <> at.key
              ORDER BY ao.key, at.key LOOP
        IF pggit._key_kind(x.ok) = 'index' AND pggit._merge_index_shape(x.ov) = pggit._merge_index_shape(x.tv) THEN
            conflicts := conflicts || pggit._merge_conflict(x.ok, 'index', 'INDEX', 'WARNING', 'both_added_index',
                jsonb_build_array(jsonb_build_object('key', x.ok), jsonb_build_object('key', x.tk)), NULL, x.ov, x.tv,
                format('both sides added an index with the same columns on %s (%s, %s): keeping both is safe but one is redundant; drop one later',
                       pggit._table_key(x.ov), x.ok, x.tk), true);
        ELSIF pggit._key_kind(x.ok) = 'constraint' AND pggit._is_fk(x.ov) AND pggit._is_fk(x.tv) THEN
            conflicts := conflicts || pggit._merge_conflict(x.ok, 'constraint', 'CONSTRAINT', 'WARNING', 'both_added_fk',
                jsonb_build_array(jsonb_build_object('key', x.ok), jsonb_build_object('key', x.tk)), NULL, x.ov, x.tv,
                format('both sides added foreign keys on %s (%s, %s): check they do not overlap, then keep both (custom with no SQL) or one side',
                       pggit._table_key(x.ov), x.ok, x.tk));
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
            dp := pggit._dep_path(dep);
            CONTINUE WHEN dp ->> 'key' = x.p ->> 'key';
            IF (x.side = 'ours' AND (changed_t ? (dp ->> 'key') OR (dp ? 'column' AND changed_t ? ((dp ->> 'key') || '#' || (dp ->> 'column')))))
               OR (x.side = 'theirs' AND (changed_o ? (dp ->> 'key') OR (dp ? 'column' AND changed_o ? ((dp ->> 'key') || '#' || (dp ->> 'column'))))) THEN
                b := pggit._path_get(base, dp);
                t := pggit._path_get(CASE WHEN x.side = 'ours' THEN theirs ELSE ours END, dp);
                -- a whole table as a dependency counts only when removed (its columns are listed too)
                CONTINUE WHEN NOT (dp ? 'column') AND pggit._key_kind(dp ->> 'key') = 'table' AND t IS NOT NULL;
                -- both sides made the same change to the dependency: nothing to decide
                CONTINUE WHEN t IS NOT DISTINCT FROM pggit._path_get(CASE WHEN x.side = 'ours' THEN ours ELSE theirs END, dp);
                CONTINUE WHEN in_conflict ? (x.p::text || dp::text);
                in_conflict := in_conflict || jsonb_build_object(x.p::text || dp::text, true);
                conflicts := conflicts || pggit._merge_conflict(x.p ->> 'key', coalesce(o ->> 'kind', pggit._key_kind(x.p ->> 'key')),
                    'DEPENDENCY', CASE WHEN t IS NULL THEN 'ERROR' ELSE 'WARNING' END,
                    CASE WHEN t IS NULL THEN 'dependency_removed' ELSE 'dependency_changed' END,
                    jsonb_build_array(x.p, dp),
                    jsonb_build_object('object', pggit._path_get(base, x.p), 'dependency', b),
                    CASE WHEN x.side = 'ours' THEN jsonb_build_object('object', o, 'dependency', pggit._path_get(ours, dp))
                         ELSE jsonb_build_object('object', pggit._path_get(ours, x.p), 'dependency', t) END,
                    CASE WHEN x.side = 'theirs' THEN jsonb_build_object('object', o, 'dependency', pggit._path_get(theirs, dp))
                         ELSE jsonb_build_object('object', pggit._path_get(theirs, x.p), 'dependency', t) END,
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
    merged := pggit._path_take(merged, ours, (
        SELECT coalesce(jsonb_agg(p), '[]') FROM jsonb_array_elements(conflicts) AS e, jsonb_array_elements(e -> 'paths') AS p
         WHERE NOT (e ->> 'auto_resolvable')::boolean AND (e ->> 'conflict_type' = 'DEPENDENCY' OR e ->> 'reason' = 'both_added_fk')));
    changes := pggit._changes(ours, merged);
    RETURN jsonb_build_object('merged', merged, 'conflicts', conflicts, 'changes', changes);
END
$fn$;

-- A conflict's identity across attempts: the same object, type, paths and the same three definitions.
CREATE OR REPLACE FUNCTION pggit._merge_fingerprint(c jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT md5(jsonb_build_array(c -> 'object_key', c -> 'conflict_type', c -> 'reason', c -> 'paths',
                                 c -> 'base', c -> 'ours', c -> 'theirs')::text)
$fn$;
