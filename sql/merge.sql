-- merge.sql: pggit.merge(): a three-way merge (merge3.sql) of a source branch into a target branch, applied
-- in the caller's transaction, recorded in pggit.merges and ended by a merge commit. The stages, in order:
-- _merge_start (authorize, lock, settle both histories, find the base), _merge3 and
-- _merge_record_conflicts (the decision and its conflicts), _merge_replay or _merge_apply_plan (apply it),
-- _merge_conclude (check the result, run the custom resolutions of conflicts.sql), _merge_finish (the
-- merge commit). Idempotent (CREATE OR REPLACE).

-- Columns this file needs on the tables of metadata.sql.
ALTER TABLE pggit.merges ADD COLUMN IF NOT EXISTS detail jsonb;

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
    IF NOT pggit._same(actual, final) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG90',
            MESSAGE = format('%s: %s', failure, pggit._differences(final, actual));
    END IF;
    SELECT x.statements, x.doc INTO statements, doc
      FROM pggit._merge_run_customs(target_id, customs, actual, base_doc, ours, theirs) x;
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
    notes text[] := '{}'::text[];
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
    current_fps text[] := '{}'::text[];
    open_ids bigint[] := '{}'::bigint[];
    open_list jsonb := '[]'::jsonb;
    auto_list jsonb := '[]'::jsonb;
    resolved_list jsonb := '[]'::jsonb;
    customs jsonb := '[]'::jsonb;
    ours_paths jsonb := '[]'::jsonb;
    theirs_paths jsonb := '[]'::jsonb;
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

-- Apply stage 1: replay the source's captured DDL statements (since the base commit) on the target, in a
-- subtransaction. Statements that are not schema changes are not replayed (noted); nor are those that
-- cannot run inside a transaction (pggit._needs_own_transaction): when what they would have made is only
-- indexes, the plan makes them in the merge transaction instead. Ends with pggit._merge_conclude. On
-- failure nothing of it remains: `error` says why, `applied` is empty and `notes` keeps only the notes of
-- statements that are not schema changes (the plan does not replay those either).
CREATE OR REPLACE FUNCTION pggit._merge_replay(target_id bigint, tracked text, source_head bigint, base_commit bigint,
                                               final jsonb, customs jsonb, base_doc jsonb, ours jsonb, theirs jsonb,
                                               OUT applied text[], OUT notes text[], OUT doc jsonb, OUT error text)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    ran record;
    actual jsonb;
    skipped integer := 0;
BEGIN
    applied := '{}';
    notes := '{}';
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
            PERFORM pggit._exec_on(target_id, split_part(tracked, ',', 1), r.statement);
            applied := applied || r.statement;
        END LOOP;
        IF skipped > 0 THEN
            actual := pggit._snapshot_of(target_id);
            IF NOT pggit._same(actual, final)
               AND NOT EXISTS (SELECT 1 FROM pggit._plan(actual, final) p
                                WHERE NOT (p.object_key LIKE 'index:%' AND p.change = 'added')) THEN
                FOR r IN SELECT p.object_key, p.statement FROM pggit._plan(actual, final) p ORDER BY p.ord LOOP
                    PERFORM pggit._exec_on(target_id, pggit._key_schema(r.object_key), r.statement);
                    applied := applied || r.statement;
                    notes := notes || format('applied in the merge transaction instead: %s', r.statement);
                END LOOP;
            END IF;
        END IF;
        SELECT * INTO ran FROM pggit._merge_conclude(target_id, final, customs, base_doc, ours, theirs,
            'replaying the source''s statements did not reach the merged schema') x;
        applied := applied || ran.statements;
        doc := ran.doc;
    EXCEPTION WHEN OTHERS THEN
        error := SQLERRM;
        applied := '{}';
        notes := ARRAY(SELECT n FROM unnest(notes) AS n WHERE n LIKE 'not replayed (%, not a schema change)%');
        doc := NULL;
    END;
END
$fn$;

-- Apply stage 2, when the replay was not used: pggit's own plan from ours to the merged document, in a
-- subtransaction, ended by pggit._merge_conclude. On failure nothing of it remains and `error` says why.
CREATE OR REPLACE FUNCTION pggit._merge_apply_plan(target_id bigint, final jsonb, customs jsonb, base_doc jsonb,
                                                   ours jsonb, theirs jsonb,
                                                   OUT applied text[], OUT doc jsonb, OUT error text)
LANGUAGE plpgsql AS $fn$
DECLARE
    r record;
    ran record;
BEGIN
    applied := '{}';
    BEGIN
        FOR r IN SELECT p.object_key, p.statement FROM pggit._plan(ours, final) p ORDER BY p.ord LOOP
            PERFORM pggit._exec_on(target_id, pggit._key_schema(r.object_key), r.statement);
            applied := applied || r.statement;
        END LOOP;
        SELECT * INTO ran FROM pggit._merge_conclude(target_id, final, customs, base_doc, ours, theirs,
            'the target does not match the merged schema after applying the plan') x;
        applied := applied || ran.statements;
        doc := ran.doc;
    EXCEPTION WHEN OTHERS THEN
        error := SQLERRM;
        applied := '{}';
        doc := NULL;
    END;
END
$fn$;

-- The fields of a merge outcome that did not apply: `result` ('conflicts', 'noop' or 'failed'), its notes and
-- error. A failed merge whose target another session changed after it was read (it no longer is `ours`) is
-- PGG91 (run it again: it is recomputed), any other failure PGG90.
CREATE OR REPLACE FUNCTION pggit._merge_unapplied(result text, notes text[], error text DEFAULT NULL,
                                                  target_id bigint DEFAULT NULL, ours jsonb DEFAULT NULL,
                                                  source text DEFAULT NULL, target text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
    actual jsonb;
    stale boolean := false;
BEGIN
    IF result = 'failed' THEN
        actual := pggit._snapshot_of(target_id);
        IF NOT pggit._same(actual, ours) THEN
            error := format('%s changed while the merge was being applied (%s); %s', target,
                            pggit._differences(actual, ours), error);
            stale := true;
        END IF;
        error := format('merge of %s into %s failed and was rolled back (the target is unchanged by it): %s',
                        source, target, error);
    END IF;
    RETURN jsonb_build_object('result', result, 'has_conflicts', result = 'conflicts', 'applied', false,
        'method', NULL, 'statements', '[]'::jsonb, 'notes', to_jsonb(notes), 'result_commit_id', NULL,
        'error', error, 'code', CASE WHEN result <> 'failed' THEN NULL WHEN stale THEN 'PGG91' ELSE 'PGG90' END);
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
-- with pggit's. Each stage is a function of its own (see the header of this file).
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
    base_commit bigint := (st ->> 'base_commit')::bigint;
    base_doc jsonb := st -> 'base_doc';
    ours jsonb := st -> 'ours';
    theirs jsonb := st -> 'theirs';
    m jsonb;
    rc jsonb;
    final jsonb;
    customs jsonb;
    outcome jsonb;
    notes text[] := ARRAY(SELECT jsonb_array_elements_text(st -> 'notes'));
    method text := 'replay';
    ap record;
    replay_error text := 'no merge base';
BEGIN
    -- the decision, and its conflicts with their recorded resolutions
    m := pggit._merge3(base_doc, ours, theirs);
    rc := pggit._merge_record_conflicts(mid, m -> 'conflicts', base_doc, ours, theirs);
    final := pggit._path_take(pggit._path_take(m -> 'merged', ours, rc -> 'ours_paths'), theirs, rc -> 'theirs_paths');
    customs := rc -> 'customs';
    outcome := jsonb_build_object('merge_id', mid, 'source', merge.source, 'target', merge.target,
        'base_commit_id', base_commit, 'source_commit_id', (st ->> 'source_head')::bigint,
        'target_commit_id', (st ->> 'target_head')::bigint,
        'auto_resolve', coalesce(merge.auto_resolve, false), 'conflicts', rc -> 'open', 'auto_resolved', rc -> 'auto',
        'resolutions', rc -> 'resolved', 'drift', st -> 'drift',
        'changes', CASE WHEN jsonb_array_length(rc -> 'resolved') = 0 THEN m -> 'changes'
                        ELSE pggit._changes(ours, final) END);
    IF jsonb_array_length(rc -> 'open') > 0 THEN
        outcome := outcome || pggit._merge_unapplied('conflicts', notes);
        PERFORM pggit._merge_finish(mid, outcome, NULL, NULL, NULL);
        RETURN outcome;
    END IF;
    IF pggit._same(final, ours) AND jsonb_array_length(customs) = 0 THEN
        outcome := outcome || pggit._merge_unapplied('noop',
            notes || 'nothing to merge: the target already has every change of the source'::text);
        PERFORM pggit._merge_finish(mid, outcome, NULL, NULL, NULL);
        RETURN outcome;
    END IF;

    -- apply: the replay of the source's statements, else the plan
    IF base_commit IS NOT NULL THEN
        SELECT * INTO ap FROM pggit._merge_replay(target_id, st ->> 'tracked', (st ->> 'source_head')::bigint,
                                                  base_commit, final, customs, base_doc, ours, theirs) x;
        notes := notes || ap.notes;
        replay_error := ap.error;
    END IF;
    IF replay_error IS NOT NULL THEN
        notes := notes || format('replay not used (%s): applied the plan instead', replay_error);
        SELECT * INTO ap FROM pggit._merge_apply_plan(target_id, final, customs, base_doc, ours, theirs) x;
        method := 'plan';
        IF ap.error IS NOT NULL THEN
            outcome := outcome || pggit._merge_unapplied('failed', notes, ap.error, target_id, ours,
                                                         merge.source, merge.target);
            PERFORM pggit._merge_finish(mid, outcome, NULL, NULL, NULL);
            RETURN outcome;
        END IF;
    END IF;

    -- the merge commit
    outcome := outcome || jsonb_build_object('result', 'merged', 'has_conflicts', false, 'applied', true,
        'method', method, 'statements', to_jsonb(ap.applied), 'notes', to_jsonb(notes), 'error', NULL, 'code', NULL);
    RETURN outcome || jsonb_build_object('result_commit_id',
        pggit._merge_finish(mid, outcome, ap.applied, ap.doc,
                            format('Merge branch ''%s'' into %s', merge.source, merge.target)));
END
$fn$;
