-- conflicts.sql: what a merge conflict's resolution may do and how it is recorded: the SQL of each side
-- at a conflict's paths, the checks of custom SQL (schema changes only; it changes only the conflict's
-- objects and drops nothing no side dropped), the run of recorded custom resolutions at merge time,
-- pggit.resolve_conflict() and the LLM proposal's record and checks. Idempotent (CREATE OR REPLACE).

-- Columns this file needs on the tables of metadata.sql.
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS paths jsonb NOT NULL DEFAULT '[]';
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS auto_resolvable boolean NOT NULL DEFAULT false;
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS fingerprint text;
-- Objects a resolution may change besides the conflict's own (the table a side renamed it to).
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS related text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS conflicts_fingerprint
    ON pggit.conflicts (source_branch, target_branch, fingerprint);

-- The SQL that turns `base_doc` into `side_doc` at the given paths (the seed's branch_a_sql /
-- branch_b_sql), rendered with render.sql; NULL when nothing differs.
CREATE OR REPLACE FUNCTION pggit._merge_side_sql(base_doc jsonb, side_doc jsonb, paths jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $fn$
DECLARE
    p jsonb;
    b jsonb;
    s jsonb;
    tb jsonb;
    out text[] := '{}'::text[];
BEGIN
    FOR p IN SELECT jsonb_array_elements(coalesce(paths, '[]')) LOOP
        b := pggit._path_get(base_doc, p);
        s := pggit._path_get(side_doc, p);
        CONTINUE WHEN b IS NOT DISTINCT FROM s;
        IF p ? 'column' OR p ? 'field' THEN
            tb := coalesce(base_doc -> 'objects' -> (p ->> 'key'), side_doc -> 'objects' -> (p ->> 'key'));
            CONTINUE WHEN tb IS NULL;
            IF p ? 'column' THEN
                tb := jsonb_set(tb, '{columns}', '{}');
            END IF;
            out := out || pggit._render_alter(pggit._path_set(jsonb_build_object('objects', jsonb_build_object(p ->> 'key', tb)), p, b) -> 'objects' -> (p ->> 'key'),
                                              pggit._path_set(jsonb_build_object('objects', jsonb_build_object(p ->> 'key', tb)), p, s) -> 'objects' -> (p ->> 'key'));
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

-- Whether the object a conflict is about is defined in a document (for a column conflict: the column).
CREATE OR REPLACE FUNCTION pggit._conflict_defined(doc jsonb, paths jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN paths -> 0 ? 'column' THEN pggit._path_get(doc, paths -> 0) IS NOT NULL
                ELSE doc -> 'objects' -> (paths -> 0 ->> 'key') IS NOT NULL END
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
    problems text[] := '{}'::text[];
    c jsonb;
    k text;
    obj jsonb;
    col text;
    bo jsonb := coalesce(before -> 'objects', '{}');
    ao jsonb := coalesce(after -> 'objects', '{}');
BEGIN
    FOR c IN SELECT jsonb_array_elements(pggit._changes(before, after)) LOOP
        k := c ->> 'key';
        obj := coalesce(ao -> k, bo -> k);
        IF NOT (k = ANY (keys) OR coalesce(pggit._table_key(obj), '') = ANY (keys)) THEN
            problems := problems || format('%s is %s, but only %s (and what belongs to it) may change', k,
                                           CASE c ->> 'change' WHEN 'added' THEN 'created' WHEN 'removed' THEN 'dropped'
                                                ELSE 'altered' END, array_to_string(keys, ', '));
        ELSIF c ->> 'change' = 'removed' THEN
            IF NOT pggit._path_dropped(jsonb_build_object('key', k), base, ours, theirs) THEN
                problems := problems || format('%s is dropped, which neither side did', k);
            END IF;
        ELSIF c ->> 'change' = 'changed' AND jsonb_typeof(bo -> k -> 'columns') = 'object' THEN
            FOR col IN SELECT jsonb_object_keys(bo -> k -> 'columns')
                       EXCEPT SELECT jsonb_object_keys(CASE WHEN jsonb_typeof(ao -> k -> 'columns') = 'object'
                                                            THEN ao -> k -> 'columns' ELSE '{}' END) LOOP
                IF NOT pggit._path_dropped(jsonb_build_object('key', k, 'column', col), base, ours, theirs) THEN
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
    tracked text;
    before jsonb;
    stmts text[];
    t record;
BEGIN
    statements := '{}';
    doc := start_doc;
    FOR c IN SELECT jsonb_array_elements(customs) LOOP
        tracked := pggit._key_schema(c -> 'paths' -> 0 ->> 'key');
        before := doc;
        IF coalesce((c ->> 'forced')::boolean, false) THEN
            stmts := ARRAY[c ->> 'sql'];
        ELSE
            PERFORM pggit._refuse_custom_sql((c ->> 'id')::bigint, pggit._statement_problems(c ->> 'sql'),
                                             'resolve the conflict again with schema changes only');
            stmts := ARRAY(SELECT x.statement FROM pggit.statements(c ->> 'sql') x WHERE x.class = 'ddl' ORDER BY x.ord);
        END IF;
        SELECT * INTO t FROM pggit._try_statements(target_id, tracked, stmts) x;
        IF t.failed IS NOT NULL THEN  -- the statement's own error, as it raised it
            IF t.hint IS NULL THEN
                RAISE EXCEPTION USING ERRCODE = t.state, MESSAGE = t.message;
            END IF;
            RAISE EXCEPTION USING ERRCODE = t.state, MESSAGE = t.message, HINT = t.hint;
        END IF;
        statements := statements || stmts;
        doc := t.doc;
        IF NOT coalesce((c ->> 'forced')::boolean, false) THEN
            PERFORM pggit._refuse_custom_sql((c ->> 'id')::bigint,
                pggit._resolution_problems(c -> 'paths', base_doc, ours, theirs, before, doc,
                                           ARRAY(SELECT jsonb_array_elements_text(coalesce(c -> 'related', '[]')))),
                'resolve the conflict again with SQL that changes only its objects and drops nothing no side dropped');
        END IF;
        IF (c ->> 'keep')::boolean AND NOT pggit._conflict_defined(doc, c -> 'paths') THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG60',
                MESSAGE = format('the custom SQL of conflict %s left %s undefined', c ->> 'id', c ->> 'object_key'),
                HINT = 'resolve the conflict again with SQL that keeps the object defined';
        END IF;
    END LOOP;
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
    problems text[] := '{}'::text[];
    before jsonb;
    after jsonb;
    t record;
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
            SELECT * INTO t FROM pggit._try_statements(pggit._branch_id(scratch), pggit._key_schema(rec.paths -> 0 ->> 'key'),
                ARRAY(SELECT x.statement FROM pggit.statements(custom_sql) x WHERE x.class = 'ddl' ORDER BY x.ord)) x;
            IF t.failed IS NOT NULL THEN
                failure := t.message;
            ELSE
                after := t.doc;
                problems := pggit._resolution_problems(rec.paths, pggit._merge_commit_doc(mrow.base_commit_id),
                                                       pggit.snapshot(rec.target_branch), pggit.snapshot(rec.source_branch),
                                                       before, after, rec.related);
                IF NOT pggit._conflict_defined(after, rec.paths) AND rec.ours_def IS NOT NULL AND rec.ours_def <> 'null'::jsonb THEN
                    problems := problems || format('it leaves %s undefined (a custom resolution must keep the conflicting object; use ours or theirs to take one side)',
                                                   rec.object_key);
                END IF;
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


-- ---------------------------------------------------------------------------------- proposals (an LLM's SQL)

-- The leaves of a value, keyed by dotted path, each nested object also marked present ("<present>") so
-- that a column present on one side and absent on another shows as such; the value itself is `<object>`
-- (an object) or `<value>` (anything else). Objects are read in their comparable form (pggit._comparable).
-- An absent value (NULL or JSON null) has no leaves.
CREATE OR REPLACE FUNCTION pggit._leaves(v jsonb) RETURNS TABLE(path text, val jsonb)
LANGUAGE sql IMMUTABLE AS $fn$
    WITH RECURSIVE walk(path, val) AS (
        SELECT ''::text, CASE WHEN jsonb_typeof(v) = 'object' THEN pggit._comparable(v) ELSE v END
         WHERE v IS NOT NULL AND jsonb_typeof(v) <> 'null'
        UNION ALL
        SELECT CASE WHEN w.path = '' THEN e.key ELSE w.path || '.' || e.key END, e.value
          FROM walk w CROSS JOIN LATERAL jsonb_each(w.val) AS e
         WHERE jsonb_typeof(w.val) = 'object'
    )
    SELECT CASE WHEN w.path <> '' THEN w.path WHEN jsonb_typeof(w.val) = 'object' THEN '<object>' ELSE '<value>' END,
           CASE WHEN jsonb_typeof(w.val) = 'object' THEN '"<present>"'::jsonb ELSE w.val END
      FROM walk w
$fn$;

-- A value as a proposal's findings show it: absent, present (a nested object), or its JSON.
CREATE OR REPLACE FUNCTION pggit._show(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN v IS NULL THEN 'absent' WHEN v = '"<present>"'::jsonb THEN 'present' ELSE v::text END
$fn$;

-- How a conflict path names itself in a finding (`table:public.users column email`).
CREATE OR REPLACE FUNCTION pggit._path_label(path jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN path ? 'column' THEN (path ->> 'key') || ' column ' || (path ->> 'column')
                WHEN path ? 'field' THEN (path ->> 'key') || ' field ' || (path ->> 'field')
                ELSE coalesce(path ->> 'key', '?') END
$fn$;

-- The three-way check of a proposal's result at one value, leaf by leaf (pggit._leaves), each leaf decided by
-- pggit._pick3: where one side changed a leaf (or neither did) the result must hold what the merge would
-- take ('problem' otherwise; the leaves under a missing or unwanted object are not reported again); where
-- both sides changed it, keeping one side or combining them is a 'note' for a human, removing it a
-- 'problem'. A combination of two column types is 'combined': a note, unless the proposal's type
-- (`new_type`) narrows or converts one side's type (`old_types`), which only the caller can judge
-- (pggit_core.type_changes); then `lossy_message` is the problem.
CREATE OR REPLACE FUNCTION pggit._three_way_leaves(b jsonb, o jsonb, t jsonb, r jsonb, label text DEFAULT '')
RETURNS TABLE(ord integer, kind text, message text, new_type text, old_types text[], lossy_message text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    x record;
    gone text[] := '{}'::text[];
    want jsonb;
    who text;
    pick text;
    prefix text := CASE WHEN coalesce(label, '') <> '' THEN label || ': ' ELSE '' END;
BEGIN
    ord := 0;
    FOR x IN WITH lb AS (SELECT * FROM pggit._leaves(b)), lo AS (SELECT * FROM pggit._leaves(o)),
                  lt AS (SELECT * FROM pggit._leaves(t)), lr AS (SELECT * FROM pggit._leaves(r)),
                  paths AS (SELECT path FROM lb UNION SELECT path FROM lo UNION SELECT path FROM lt
                            UNION SELECT path FROM lr)
             SELECT p.path, lb.val AS bv, lo.val AS ov, lt.val AS tv, lr.val AS rv
               FROM paths p LEFT JOIN lb USING (path) LEFT JOIN lo USING (path) LEFT JOIN lt USING (path)
               LEFT JOIN lr USING (path)
              ORDER BY p.path COLLATE "C" LOOP
        CONTINUE WHEN '<object>' = ANY (gone) OR EXISTS (SELECT 1 FROM unnest(gone) AS g WHERE starts_with(x.path, g || '.'));
        pick := pggit._pick3(x.bv, x.ov, x.tv);
        kind := NULL; new_type := NULL; old_types := NULL; lossy_message := NULL;
        IF pick = 'ours' THEN
            want := x.ov;
            who := CASE WHEN x.ov IS NOT DISTINCT FROM x.tv THEN 'both sides have' ELSE 'ours (the target) has' END;
        ELSIF pick = 'theirs' THEN
            want := x.tv;
            who := 'theirs (the source) changed it to';
        ELSIF x.rv IS NOT DISTINCT FROM x.ov OR x.rv IS NOT DISTINCT FROM x.tv THEN
            kind := 'note';
            message := format('%s%s: both sides changed it (%s vs %s); the proposal keeps %s', prefix, x.path,
                              pggit._show(x.ov), pggit._show(x.tv),
                              CASE WHEN x.rv IS NOT DISTINCT FROM x.ov THEN 'ours' ELSE 'theirs' END);
        ELSIF x.rv IS NULL THEN
            kind := 'problem';
            message := format('%s%s: both sides changed it (%s vs %s) but the proposal removes it', prefix, x.path,
                              pggit._show(x.ov), pggit._show(x.tv));
        ELSE
            kind := 'combined';
            message := format('%s%s: both sides changed it (%s vs %s); the proposal combines them as %s', prefix,
                              x.path, pggit._show(x.ov), pggit._show(x.tv), pggit._show(x.rv));
            IF (x.path LIKE '%.type' OR x.path IN ('type', '<value>')) AND jsonb_typeof(x.rv) = 'string' THEN
                new_type := x.rv #>> '{}';
                old_types := ARRAY(SELECT s #>> '{}' FROM unnest(ARRAY[x.ov, x.tv]) AS s WHERE jsonb_typeof(s) = 'string');
                lossy_message := format('%s%s: the proposal''s type %s narrows or converts one side''s type (%s / %s); pick a type both fit in',
                                        prefix, x.path, new_type, pggit._show(x.ov), pggit._show(x.tv));
            END IF;
        END IF;
        IF kind IS NULL THEN
            CONTINUE WHEN x.rv IS NOT DISTINCT FROM want;
            kind := 'problem';
            message := format('%s%s: %s %s, the proposal leaves %s', prefix, x.path, who, pggit._show(want), pggit._show(x.rv));
            IF '"<present>"'::jsonb IN (want, x.rv) THEN
                gone := gone || x.path;
            END IF;
        END IF;
        ord := ord + 1;
        RETURN NEXT;
    END LOOP;
END
$fn$;

-- An object in its comparable form without the given columns and fields: what must not change when only
-- those are in conflict.
CREATE OR REPLACE FUNCTION pggit._without_parts(obj jsonb, cols text[], fields text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE WHEN jsonb_typeof(obj -> 'columns') = 'object'
                THEN jsonb_set(pggit._comparable(obj) - fields, '{columns}', (obj -> 'columns') - cols)
                ELSE pggit._comparable(obj) - fields END
$fn$;

-- What a proposal's statements did, judged from the target's document before (`ours`) and after them
-- (`after`), stricter than pggit._resolution_problems for a person's custom SQL: only the conflict's own
-- objects may change (problem: anything else, even what belongs to their tables), an object a path names
-- a part of may change only at the conflicting columns and fields, and each path passes
-- pggit._three_way_leaves against the base, ours and theirs. Findings in order: first the objects that
-- changed where they should not (`stage` 'scope', `kind` 'problem', sorted by key), then the three-way
-- findings path by path (`stage` 'three_way').
CREATE OR REPLACE FUNCTION pggit._proposal_findings(paths jsonb, base jsonb, ours jsonb, theirs jsonb, after jsonb)
RETURNS TABLE(ord integer, stage text, kind text, message text, new_type text, old_types text[], lossy_message text)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    keys text[] := ARRAY(SELECT DISTINCT p ->> 'key' COLLATE "C" FROM jsonb_array_elements(coalesce(paths, '[]')) AS p
                          ORDER BY 1);
    whole text[] := ARRAY(SELECT p ->> 'key' FROM jsonb_array_elements(coalesce(paths, '[]')) AS p
                           WHERE NOT (p ? 'column' OR p ? 'field'));
    cols text[] := ARRAY(SELECT p ->> 'column' FROM jsonb_array_elements(coalesce(paths, '[]')) AS p WHERE p ? 'column');
    fields text[] := ARRAY(SELECT p ->> 'field' FROM jsonb_array_elements(coalesce(paths, '[]')) AS p WHERE p ? 'field');
    c record;
    p jsonb;
    n integer := 0;
BEGIN
    new_type := NULL; old_types := NULL; lossy_message := NULL;
    FOR c IN SELECT e ->> 'key' AS k, e ->> 'change' AS change FROM jsonb_array_elements(pggit._changes(ours, after)) AS e
              ORDER BY (e ->> 'key') COLLATE "C" LOOP
        stage := 'scope';
        kind := 'problem';
        IF NOT c.k = ANY (keys) THEN
            message := format('%s changed (%s) but only %s may change', c.k,
                              CASE c.change WHEN 'added' THEN 'created' WHEN 'removed' THEN 'removed' ELSE 'altered' END,
                              array_to_string(keys, ', '));
        ELSIF c.change = 'changed' AND NOT c.k = ANY (whole)
              AND pggit._without_parts(ours -> 'objects' -> c.k, cols, fields)
                  IS DISTINCT FROM pggit._without_parts(after -> 'objects' -> c.k, cols, fields) THEN
            message := format('%s changed outside the conflicting %s', c.k,
                              (SELECT string_agg(pggit._path_label(q), ', ') FROM jsonb_array_elements(paths) AS q
                                WHERE q ->> 'key' = c.k));
        ELSE
            CONTINUE;
        END IF;
        n := n + 1;
        ord := n;
        RETURN NEXT;
    END LOOP;
    FOR p IN SELECT jsonb_array_elements(coalesce(paths, '[]')) LOOP
        FOR c IN SELECT * FROM pggit._three_way_leaves(pggit._path_get(base, p), pggit._path_get(ours, p),
                                                        pggit._path_get(theirs, p), pggit._path_get(after, p),
                                                        pggit._path_label(p)) AS f ORDER BY f.ord LOOP
            n := n + 1;
            ord := n; stage := 'three_way'; kind := c.kind; message := c.message; new_type := c.new_type; old_types := c.old_types;
            lossy_message := c.lossy_message;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$fn$;
