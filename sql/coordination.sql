-- coordination.sql: agent intents' status rules and audit trail, table locks with expiry, agent
-- partitions, and monitoring views. Idempotent (CREATE OR REPLACE, IF NOT EXISTS).
-- Owner of the intent status lifecycle; the tables are in metadata.sql, the Python side is
-- pggit_core/coordination.py (IntentRegistry) and pggit_core/store/intents.py.
--
-- Settings read here (custom GUCs, TRANSACTION-LOCAL, set by the Python side with set_config(..., true)):
--   pggit.reason   why a status changes (stored in pggit.intent_events.reason); optional.
--
-- Every status change of pggit.intents, also a plain `UPDATE pggit_agent_intents SET status = ...` from
-- psql, is validated against pggit.intent_transitions (SQLSTATE PGG70 when not allowed) and recorded in
-- pggit.intent_events with who (current_user), when and why.

-- Columns this file adds (kept here so re-running upgrades an older database).
ALTER TABLE pggit.intents ADD COLUMN IF NOT EXISTS agent_type text;
ALTER TABLE pggit.intents ADD COLUMN IF NOT EXISTS dry_run jsonb;
COMMENT ON COLUMN pggit.intents.agent_type IS 'the partition (pggit.agent_partitions.agent_type) the agent works in';
COMMENT ON COLUMN pggit.intents.dry_run IS 'what PostgreSQL reported when the statements ran in a rolled-back dry run';
-- Lock and partition conflicts have no other intent: they name the owner instead.
ALTER TABLE pggit.intent_conflicts ALTER COLUMN other_intent_id DROP NOT NULL;
ALTER TABLE pggit.intent_conflicts ADD COLUMN IF NOT EXISTS owner text;
COMMENT ON COLUMN pggit.intent_conflicts.owner IS 'for LOCK / PARTITION conflicts: the agent or agent type that owns the table';

-- The lifecycle: which status may follow which. merged and abandoned are final.
CREATE TABLE IF NOT EXISTS pggit.intent_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO pggit.intent_transitions (from_status, to_status) VALUES
    ('registered', 'in_progress'), ('registered', 'completed'), ('registered', 'pending_review'),
    ('registered', 'conflicted'), ('registered', 'abandoned'),
    ('in_progress', 'completed'), ('in_progress', 'pending_review'), ('in_progress', 'conflicted'),
    ('in_progress', 'abandoned'),
    ('completed', 'in_progress'), ('completed', 'pending_review'), ('completed', 'conflicted'),
    ('completed', 'merged'), ('completed', 'abandoned'),
    ('pending_review', 'in_progress'), ('pending_review', 'completed'), ('pending_review', 'conflicted'),
    ('pending_review', 'merged'), ('pending_review', 'abandoned'),
    ('conflicted', 'in_progress'), ('conflicted', 'completed'), ('conflicted', 'pending_review'),
    ('conflicted', 'abandoned')
ON CONFLICT DO NOTHING;
REVOKE ALL ON pggit.intent_transitions FROM PUBLIC;

-- BEFORE INSERT OR UPDATE OF status: refuse unknown statuses and illegal transitions, keep timestamps.
CREATE OR REPLACE FUNCTION pggit._intent_status_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    allowed text;
BEGIN
    IF NEW.status NOT IN ('registered', 'in_progress', 'completed', 'pending_review', 'conflicted', 'merged',
                          'abandoned') THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61',
            MESSAGE = format('%L is not an intent status', NEW.status),
            HINT = 'use one of registered, in_progress, completed, pending_review, conflicted, merged, abandoned';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'registered' THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG70',
                MESSAGE = format('a new intent starts as registered, not %L', NEW.status),
                HINT = 'insert it as registered, then change its status';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pggit.intent_transitions t
                    WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        SELECT string_agg(t.to_status, ', ' ORDER BY t.to_status) INTO allowed
          FROM pggit.intent_transitions t WHERE t.from_status = OLD.status;
        RAISE EXCEPTION USING ERRCODE = 'PGG70',
            MESSAGE = format('intent %s (%s / %s) cannot go from %s to %s', OLD.id, OLD.agent_id, OLD.feature_name,
                             OLD.status, NEW.status),
            HINT = CASE WHEN allowed IS NULL THEN format('%s is final; register a new intent instead', OLD.status)
                        ELSE format('from %s it can go to: %s', OLD.status, allowed) END;
    END IF;
    NEW.updated_at := now();
    IF NEW.status = 'in_progress' AND NEW.started_at IS NULL THEN
        NEW.started_at := now();
    ELSIF NEW.status = 'completed' THEN
        NEW.completed_at := now();
    ELSIF NEW.status = 'merged' THEN
        NEW.merged_at := now();
        NEW.completed_at := coalesce(NEW.completed_at, now());
    END IF;
    RETURN NEW;
END
$fn$;

-- AFTER INSERT OR UPDATE OF status: the audit trail, and the footprint index follows liveness.
CREATE OR REPLACE FUNCTION pggit._intent_status_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    INSERT INTO pggit.intent_events (intent_id, from_status, to_status, actor, reason)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, pggit._invoker(),
            nullif(current_setting('pggit.reason', true), ''));
    IF NEW.status IN ('merged', 'abandoned') THEN
        UPDATE pggit.intent_objects SET live = false WHERE intent_id = NEW.id AND live;
    END IF;
    -- An abandoned intent's open conflicts are moot: close them, saying why.
    IF NEW.status = 'abandoned' THEN
        UPDATE pggit.intent_conflicts c
           SET reviewed = true, resolved_by = pggit._invoker(), resolved_at = now(),
               resolution_notes = format('intent %s (%s / %s) was abandoned', NEW.id, NEW.agent_id, NEW.feature_name)
         WHERE (c.intent_id = NEW.id OR c.other_intent_id = NEW.id) AND NOT c.reviewed;
    END IF;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS intent_status_guard ON pggit.intents;
CREATE TRIGGER intent_status_guard BEFORE INSERT OR UPDATE OF status ON pggit.intents
    FOR EACH ROW EXECUTE FUNCTION pggit._intent_status_guard();
DROP TRIGGER IF EXISTS intent_status_audit ON pggit.intents;
CREATE TRIGGER intent_status_audit AFTER INSERT OR UPDATE OF status ON pggit.intents
    FOR EACH ROW EXECUTE FUNCTION pggit._intent_status_audit();

-- Table locks: an expired lock does not block. Before a new lock is inserted (also the seed's
-- `INSERT INTO pggit_table_locks ... ON CONFLICT (table_name) DO NOTHING`), an expired lock on the same
-- table is removed, so the insert takes the table instead of doing nothing.
CREATE OR REPLACE FUNCTION pggit._table_lock_reap() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
BEGIN
    IF NEW.table_name IS NULL OR btrim(NEW.table_name) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'a table lock needs a table name',
            HINT = 'lock a table like users or auth.sessions';
    END IF;
    IF NEW.agent_id IS NULL OR btrim(NEW.agent_id) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'a table lock needs an agent id',
            HINT = 'say which agent holds the lock';
    END IF;
    IF NEW.expires_at IS NOT NULL AND NEW.expires_at <= coalesce(NEW.locked_at, now()) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61',
            MESSAGE = format('the lock on %s would expire (%s) before it starts', NEW.table_name, NEW.expires_at),
            HINT = 'give an expiry in the future';
    END IF;
    DELETE FROM pggit.table_locks l
     WHERE l.table_name = NEW.table_name AND l.expires_at IS NOT NULL AND l.expires_at <= now();
    RETURN NEW;
END
$fn$;
DROP TRIGGER IF EXISTS table_lock_reap ON pggit.table_locks;
CREATE TRIGGER table_lock_reap BEFORE INSERT ON pggit.table_locks
    FOR EACH ROW EXECUTE FUNCTION pggit._table_lock_reap();

-- Live locks only (the seed's view shows every row, including expired ones).
CREATE OR REPLACE VIEW pggit.pggit_live_table_locks WITH (security_invoker = true) AS
    SELECT agent_id, table_name, locked_at, expires_at, reason
      FROM pggit.table_locks
     WHERE expires_at IS NULL OR expires_at > now();

-- Monitoring: the seed's dashboard, conflict rate and agent performance, as views.
CREATE OR REPLACE VIEW pggit.pggit_agent_activity WITH (security_invoker = true) AS
    SELECT id, agent_id, branch_name, intent, tables_affected, status, started_at, completed_at,
           EXTRACT(EPOCH FROM (coalesce(completed_at, now()) - started_at)) AS duration_seconds
      FROM pggit.pggit_agent_intents;

CREATE OR REPLACE VIEW pggit.pggit_conflict_rate WITH (security_invoker = true) AS
    SELECT date(created_at) AS date,
           count(*) AS total_merges,
           count(*) FILTER (WHERE had_conflicts) AS conflicts,
           round(100.0 * count(*) FILTER (WHERE had_conflicts) / count(*), 2) AS conflict_rate
      FROM pggit.pggit_merge_history
     GROUP BY date(created_at);

CREATE OR REPLACE VIEW pggit.pggit_agent_performance WITH (security_invoker = true) AS
    SELECT i.agent_id,
           count(*) AS total_branches,
           count(*) FILTER (WHERE i.status = 'merged') AS successful,
           count(*) FILTER (WHERE i.status IN ('conflict', 'conflicted')) AS conflicts,
           (SELECT count(*) FROM pggit.intent_conflicts c JOIN pggit.intents x ON x.id = c.intent_id
             WHERE x.agent_id = i.agent_id AND NOT c.reviewed) AS open_intent_conflicts
      FROM pggit.pggit_agent_intents i
     GROUP BY i.agent_id;

REVOKE ALL ON pggit.pggit_live_table_locks, pggit.pggit_agent_activity, pggit.pggit_conflict_rate,
              pggit.pggit_agent_performance FROM PUBLIC;
REVOKE ALL ON FUNCTION pggit._intent_status_guard(), pggit._intent_status_audit(), pggit._table_lock_reap()
    FROM PUBLIC;

-- Who may write what, enforced by PostgreSQL. Agents read everything here (grants.sql), change the status
-- of their own intents (the seed's `UPDATE pggit_agent_intents SET status = ...`) and their own table
-- locks (the seed's `INSERT INTO pggit_table_locks ...`, `DELETE FROM pggit_table_locks ...`); every other
-- write goes through the SECURITY DEFINER functions below, which check who asks. Mergers may do all of it
-- for anyone; the owner and superusers are not subject to these policies.
CREATE OR REPLACE FUNCTION pggit._acts_for(agent_id text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT $1 = pggit._invoker() OR pggit._is_merger(pggit._invoker())
$fn$;

-- PGG51 unless the invoker may act for the agent.
CREATE OR REPLACE FUNCTION pggit._require_acts_for(agent_id text, what text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
BEGIN
    IF NOT pggit._acts_for(agent_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG51',
            MESSAGE = format('role %s may not %s of agent %s', pggit._invoker(), what, agent_id),
            HINT = format('an agent acts as itself (agent id %s); a merger acts for anyone', pggit._invoker());
    END IF;
END
$fn$;

ALTER TABLE pggit.intents ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS intents_read ON pggit.intents;
CREATE POLICY intents_read ON pggit.intents FOR SELECT USING (true);
DROP POLICY IF EXISTS intents_own_status ON pggit.intents;
CREATE POLICY intents_own_status ON pggit.intents FOR UPDATE
    USING (pggit._acts_for(agent_id)) WITH CHECK (pggit._acts_for(agent_id));

ALTER TABLE pggit.table_locks ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS table_locks_read ON pggit.table_locks;
CREATE POLICY table_locks_read ON pggit.table_locks FOR SELECT USING (true);
DROP POLICY IF EXISTS table_locks_take ON pggit.table_locks;
CREATE POLICY table_locks_take ON pggit.table_locks FOR INSERT WITH CHECK (pggit._acts_for(agent_id));
DROP POLICY IF EXISTS table_locks_extend ON pggit.table_locks;
CREATE POLICY table_locks_extend ON pggit.table_locks FOR UPDATE
    USING (pggit._acts_for(agent_id)) WITH CHECK (pggit._acts_for(agent_id));
DROP POLICY IF EXISTS table_locks_release ON pggit.table_locks;
CREATE POLICY table_locks_release ON pggit.table_locks FOR DELETE USING (pggit._acts_for(agent_id));

-- Record an intent with its footprint index rows and its conflicts, in one statement (pggit_core/store/
-- intents.py computes them), and the Prefect flow run driving it (p ->> 'flow_run', optional): registering
-- is one transaction, and a retried registration of the same flow run finds this row (store.lookup). An
-- agent records its own intents only. Returns {"intent", "conflicts"}.
CREATE OR REPLACE FUNCTION pggit._intent_record(p jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    out jsonb;
BEGIN
    PERFORM pggit._require_acts_for(p ->> 'agent', 'register an intent');
    WITH new_intent AS (
        INSERT INTO pggit.intents (agent_id, feature_name, description, branch_name, risk_level, schema_changes,
                                   tables_affected, footprint, footprint_warnings, agent_type, flow_run_id)
        VALUES (p ->> 'agent', p ->> 'feature', p ->> 'description', p ->> 'branch', p ->> 'risk',
                ARRAY(SELECT jsonb_array_elements_text(p -> 'changes')),
                ARRAY(SELECT jsonb_array_elements_text(p -> 'tables')),
                p -> 'footprint', ARRAY(SELECT jsonb_array_elements_text(p -> 'warnings')), p ->> 'agent_type',
                p ->> 'flow_run')
        RETURNING *
    ), objects AS (
        INSERT INTO pggit.intent_objects (intent_id, object_key, table_key, kind, action)
        SELECT DISTINCT (SELECT id FROM new_intent), o ->> 'key', o ->> 'table_key', o ->> 'kind', o ->> 'action'
          FROM jsonb_array_elements(p -> 'objects') AS o
        ON CONFLICT DO NOTHING
    ), conflicts AS (
        INSERT INTO pggit.intent_conflicts (intent_id, other_intent_id, conflict_type, severity, affected_objects,
                                            resolution_suggestions, owner)
        SELECT (SELECT id FROM new_intent), (c.f ->> 'other')::bigint, c.f ->> 'type', c.f ->> 'severity',
               ARRAY(SELECT jsonb_array_elements_text(c.f -> 'affected')),
               ARRAY(SELECT jsonb_array_elements_text(c.f -> 'advice')), c.f ->> 'owner'
          FROM jsonb_array_elements(p -> 'findings') WITH ORDINALITY AS c(f, ord)
         ORDER BY c.ord
        RETURNING *
    )
    SELECT jsonb_build_object('intent', (SELECT to_jsonb(n) FROM new_intent n),
                              'conflicts', coalesce((SELECT jsonb_agg(to_jsonb(c) ORDER BY c.id) FROM conflicts c), '[]'))
      INTO out;
    RETURN out;
END
$fn$;

-- The intent of an id, or PGG40; `what` names the change for the authorization check.
CREATE OR REPLACE FUNCTION pggit._intent_for_change(p_id bigint, what text) RETURNS pggit.intents
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    i pggit.intents;
BEGIN
    SELECT * INTO i FROM pggit.intents x WHERE x.id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('intent %s does not exist', p_id),
            HINT = 'list intents with `pggit coordinate list-intents`';
    END IF;
    PERFORM pggit._require_acts_for(i.agent_id, what);
    RETURN i;
END
$fn$;

-- An intent's branch name, when the derived one was taken (not a live branch of someone else).
CREATE OR REPLACE FUNCTION pggit._intent_set_branch(p_id bigint, p_branch text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    i pggit.intents := pggit._intent_for_change(p_id, 'name the branch of an intent');
BEGIN
    PERFORM pggit._validate_branch_name(p_branch);
    IF EXISTS (SELECT 1 FROM pggit.branches b WHERE b.name = p_branch AND b.status <> 'deleted'
                  AND b.owner_role IS DISTINCT FROM i.agent_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG41', MESSAGE = format('branch %L belongs to someone else', p_branch),
            HINT = 'an intent names a branch of its own agent';
    END IF;
    UPDATE pggit.intents SET branch_name = p_branch WHERE id = p_id;
END
$fn$;

-- What the registration's dry run found (pggit_core/store/intents.py).
CREATE OR REPLACE FUNCTION pggit._intent_set_dry_run(p_id bigint, p_report jsonb, p_warnings text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
BEGIN
    PERFORM pggit._intent_for_change(p_id, 'record the dry run of an intent');
    UPDATE pggit.intents SET dry_run = p_report, footprint_warnings = footprint_warnings || coalesce(p_warnings, '{}')
     WHERE id = p_id;
END
$fn$;

-- Gone since version 3 (pggit._intent_record writes the flow run with the intent): dropped from older databases.
DROP FUNCTION IF EXISTS pggit._intent_set_flow_run(bigint, text);

-- Mark an intent conflict reviewed with notes: the agent of either intent, or a merger. Returns its id, or
-- NULL when there is no such conflict.
CREATE OR REPLACE FUNCTION pggit._intent_conflict_review(p_id bigint, p_notes text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    c record;
BEGIN
    SELECT x.id, i.agent_id AS a, o.agent_id AS b INTO c
      FROM pggit.intent_conflicts x JOIN pggit.intents i ON i.id = x.intent_id
      LEFT JOIN pggit.intents o ON o.id = x.other_intent_id
     WHERE x.id = p_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NOT (pggit._acts_for(c.a) OR (c.b IS NOT NULL AND pggit._acts_for(c.b))) THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG51',
            MESSAGE = format('role %s may not resolve conflict %s: it is between %s and %s', pggit._invoker(), p_id,
                             c.a, coalesce(c.b, 'a lock or partition owner')),
            HINT = 'the agents of either intent, or a merger, resolve it';
    END IF;
    UPDATE pggit.intent_conflicts SET reviewed = true, resolution_notes = p_notes, resolved_by = pggit._invoker(),
                                      resolved_at = now()
     WHERE id = p_id;
    RETURN p_id;
END
$fn$;

-- Review approvals: a recorded event, not a text of the audit trail. One row per approval of an intent that
-- waited for review (pending_review -> completed): the reviewer (who decided, as the review form names
-- them), the comment, the role that recorded it and the status change it made (its intent_events row).
-- Written only through pggit._intent_approve (no write grant); everyone reads it (grants.sql).
CREATE TABLE IF NOT EXISTS pggit.intent_approvals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    intent_id   bigint NOT NULL REFERENCES pggit.intents (id) ON DELETE CASCADE,
    reviewer    text NOT NULL,
    comment     text NOT NULL DEFAULT '',
    approved_by text NOT NULL,
    event_id    bigint NOT NULL REFERENCES pggit.intent_events (id) ON DELETE CASCADE,
    approved_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS intent_approvals_intent ON pggit.intent_approvals (intent_id, id);
COMMENT ON TABLE pggit.intent_approvals IS 'review approvals of intents (pggit._intent_approve); owner: pggit_core/store/approvals.py';
COMMENT ON COLUMN pggit.intent_approvals.approved_by IS 'the database role that recorded the approval (pggit._invoker())';
REVOKE ALL ON pggit.intent_approvals FROM PUBLIC;

-- Approve an intent waiting for review: pending_review -> completed (validated and audited by the status
-- triggers, with the reason 'review approved by <reviewer>: <comment>') and its intent_approvals row, in
-- one statement. Who may: whoever may change the intent's status (its agent or a merger: the rule of
-- every status change). Retry-safe: the same approval again, with nothing changed since, returns the
-- recorded one. Returns the approval's id.
CREATE OR REPLACE FUNCTION pggit._intent_approve(p_id bigint, p_reviewer text, p_comment text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pggit AS $fn$
DECLARE
    i pggit.intents := pggit._intent_for_change(p_id, 'approve the review of an intent');
    note text := coalesce(p_comment, '');
    last pggit.intent_approvals;
    previous_reason text := current_setting('pggit.reason', true);
    event bigint;
    made bigint;
BEGIN
    IF p_reviewer IS NULL OR btrim(p_reviewer) = '' OR p_reviewer ~ '[\x00-\x1f\x7f]' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'an approval needs the reviewer''s name',
            HINT = 'name who decided (printable characters)';
    END IF;
    SELECT * INTO i FROM pggit.intents x WHERE x.id = p_id FOR UPDATE;
    SELECT * INTO last FROM pggit.intent_approvals a WHERE a.intent_id = p_id ORDER BY a.id DESC LIMIT 1;
    IF i.status = 'completed' AND last.id IS NOT NULL AND last.reviewer = p_reviewer AND last.comment = note
       AND NOT EXISTS (SELECT 1 FROM pggit.intent_events e WHERE e.intent_id = p_id AND e.id > last.event_id) THEN
        RETURN last.id;
    END IF;
    IF i.status <> 'pending_review' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG70',
            MESSAGE = format('intent %s (%s / %s) is %s: only an intent waiting for review can be approved',
                             i.id, i.agent_id, i.feature_name, i.status),
            HINT = 'mark it pending_review first (the review pause does)';
    END IF;
    PERFORM set_config('pggit.reason', format('review approved by %s: %s', p_reviewer,
                                              coalesce(nullif(note, ''), 'no comment')), true);
    UPDATE pggit.intents SET status = 'completed' WHERE id = p_id;
    PERFORM set_config('pggit.reason', coalesce(previous_reason, ''), true);
    SELECT max(e.id) INTO event FROM pggit.intent_events e WHERE e.intent_id = p_id AND e.to_status = 'completed';
    INSERT INTO pggit.intent_approvals (intent_id, reviewer, comment, approved_by, event_id)
    VALUES (p_id, p_reviewer, note, pggit._invoker(), event)
    RETURNING id INTO made;
    RETURN made;
END
$fn$;
