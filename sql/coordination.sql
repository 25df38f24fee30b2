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
LANGUAGE plpgsql SET search_path = pg_catalog, pggit AS $fn$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    INSERT INTO pggit.intent_events (intent_id, from_status, to_status, actor, reason)
    VALUES (NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, current_user,
            nullif(current_setting('pggit.reason', true), ''));
    IF NEW.status IN ('merged', 'abandoned') THEN
        UPDATE pggit.intent_objects SET live = false WHERE intent_id = NEW.id AND live;
    END IF;
    -- An abandoned intent's open conflicts are moot: close them, saying why.
    IF NEW.status = 'abandoned' THEN
        UPDATE pggit.intent_conflicts c
           SET reviewed = true, resolved_by = current_user, resolved_at = now(),
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
LANGUAGE plpgsql SET search_path = pg_catalog, pggit AS $fn$
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
CREATE OR REPLACE VIEW pggit.pggit_live_table_locks AS
    SELECT agent_id, table_name, locked_at, expires_at, reason
      FROM pggit.table_locks
     WHERE expires_at IS NULL OR expires_at > now();

-- Monitoring: the seed's dashboard, conflict rate and agent performance, as views.
CREATE OR REPLACE VIEW pggit.pggit_agent_activity AS
    SELECT id, agent_id, branch_name, intent, tables_affected, status, started_at, completed_at,
           EXTRACT(EPOCH FROM (coalesce(completed_at, now()) - started_at)) AS duration_seconds
      FROM pggit.pggit_agent_intents;

CREATE OR REPLACE VIEW pggit.pggit_conflict_rate AS
    SELECT date(created_at) AS date,
           count(*) AS total_merges,
           count(*) FILTER (WHERE had_conflicts) AS conflicts,
           round(100.0 * count(*) FILTER (WHERE had_conflicts) / count(*), 2) AS conflict_rate
      FROM pggit.pggit_merge_history
     GROUP BY date(created_at);

CREATE OR REPLACE VIEW pggit.pggit_agent_performance AS
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
