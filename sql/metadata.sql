-- The pggit metadata schema: every table and view pggit keeps. Idempotent; the current shape.
-- Nothing is created outside the `pggit` schema. PUBLIC gets no write access to anything here.
-- Upgrades: re-running this file must bring any older database to the current shape, so a column added
-- to an existing table is written as ALTER TABLE ... ADD COLUMN IF NOT EXISTS after the table.
-- Errors raised by pggit's SQL functions use SQLSTATEs PGG30..PGG92 (see pggit_core/errors.py).

CREATE SCHEMA IF NOT EXISTS pggit;
REVOKE ALL ON SCHEMA pggit FROM PUBLIC;
GRANT USAGE ON SCHEMA pggit TO PUBLIC;
COMMENT ON SCHEMA pggit IS 'pggit-flows: branches, commits, merges and agent coordination for this database';

CREATE TABLE IF NOT EXISTS pggit.schema_version (
    component    text PRIMARY KEY,
    version      integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    upgraded_at  timestamptz
);
ALTER TABLE pggit.schema_version ADD COLUMN IF NOT EXISTS checksum text;

CREATE TABLE IF NOT EXISTS pggit.schema_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_version integer,
    to_version   integer NOT NULL,
    applied_by   text NOT NULL DEFAULT current_user,
    applied_at   timestamptz NOT NULL DEFAULT now()
);

-- Settings: tracked_schemas (jsonb array of schema names main consists of; default ["public"]).
CREATE TABLE IF NOT EXISTS pggit.settings (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);
INSERT INTO pggit.settings (key, value) VALUES ('tracked_schemas', '["public"]')
ON CONFLICT (key) DO NOTHING;
-- on_drift: what a merge, commit or branch point does with changes pggit did not capture (capture.sql,
-- pggit._settle): "record" them as their own commit by 'outside pggit', or "refuse" (PGG92).
INSERT INTO pggit.settings (key, value) VALUES ('on_drift', '"record"')
ON CONFLICT (key) DO NOTHING;

-- Branches (owner: pggit_core/store/branches.py). `main` is row 1 and maps onto the tracked schemas.
CREATE TABLE IF NOT EXISTS pggit.branches (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL,
    parent_id      bigint REFERENCES pggit.branches (id),
    base_commit_id bigint,
    head_commit_id bigint,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged', 'deleted')),
    created_by     text NOT NULL DEFAULT current_user,
    created_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS branches_live_name ON pggit.branches (name) WHERE status <> 'deleted';
-- The role that owns the branch's schemas and everything in them (NULL for main: main is its objects'
-- owners', changed by mergers only).
ALTER TABLE pggit.branches ADD COLUMN IF NOT EXISTS owner_role text;
UPDATE pggit.branches SET owner_role = created_by WHERE owner_role IS NULL AND name <> 'main';

-- Which physical schema holds each tracked schema of a branch (main: the tracked schemas themselves).
CREATE TABLE IF NOT EXISTS pggit.branch_schemas (
    branch_id       bigint NOT NULL REFERENCES pggit.branches (id) ON DELETE CASCADE,
    tracked_schema  text NOT NULL,
    physical_schema text NOT NULL,
    PRIMARY KEY (branch_id, tracked_schema)
);
CREATE UNIQUE INDEX IF NOT EXISTS branch_schemas_physical ON pggit.branch_schemas (physical_schema);
-- The schema's oid: a schema keeps it when renamed, so the guard knows a renamed branch schema.
ALTER TABLE pggit.branch_schemas ADD COLUMN IF NOT EXISTS physical_oid oid;
CREATE INDEX IF NOT EXISTS branch_schemas_oid ON pggit.branch_schemas (physical_oid);
UPDATE pggit.branch_schemas bs SET physical_oid = n.oid
  FROM pg_namespace n WHERE n.nspname = bs.physical_schema AND bs.physical_oid IS DISTINCT FROM n.oid;

-- Snapshots: the schema as a jsonb document, keyed by its hash (owner: pggit_core/snapshot.py).
CREATE TABLE IF NOT EXISTS pggit.snapshots (
    hash       text PRIMARY KEY,
    doc        jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Commits (owner: pggit_core/store/commits.py).
CREATE TABLE IF NOT EXISTS pggit.commits (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id       bigint NOT NULL REFERENCES pggit.branches (id),
    parent_id       bigint REFERENCES pggit.commits (id),
    merge_parent_id bigint REFERENCES pggit.commits (id),
    message         text NOT NULL,
    author          text NOT NULL DEFAULT current_user,
    snapshot_hash   text NOT NULL REFERENCES pggit.snapshots (hash),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS commits_branch ON pggit.commits (branch_id, id DESC);
-- Who made the commit (the invoking role, whatever author it names).
ALTER TABLE pggit.commits ADD COLUMN IF NOT EXISTS committed_by text;

-- Captured DDL (owner: capture.sql / pggit_core/store/commits.py). commit_id is NULL until committed.
CREATE TABLE IF NOT EXISTS pggit.ddl_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id       bigint NOT NULL REFERENCES pggit.branches (id),
    commit_id       bigint REFERENCES pggit.commits (id),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    command_tag     text NOT NULL,
    object_type     text,
    schema_name     text,
    object_identity text,
    statement       text NOT NULL,
    role_name       text NOT NULL DEFAULT current_user,
    captured_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS ddl_log_uncommitted ON pggit.ddl_log (branch_id) WHERE commit_id IS NULL;
CREATE INDEX IF NOT EXISTS ddl_log_commit ON pggit.ddl_log (commit_id);

-- Merge history: every merge attempt (owner: pggit_core/store/merges.py).
CREATE TABLE IF NOT EXISTS pggit.merges (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_branch      text NOT NULL,
    target_branch      text NOT NULL,
    base_commit_id     bigint REFERENCES pggit.commits (id),
    source_commit_id   bigint REFERENCES pggit.commits (id),
    target_commit_id   bigint REFERENCES pggit.commits (id),
    result_commit_id   bigint REFERENCES pggit.commits (id),
    auto_resolve       boolean NOT NULL DEFAULT false,
    had_conflicts      boolean NOT NULL DEFAULT false,
    result             text NOT NULL CHECK (result IN ('merged', 'conflicts', 'failed', 'noop', 'running')),
    statements_applied integer NOT NULL DEFAULT 0,
    applied_sql        text[] NOT NULL DEFAULT '{}',
    error              text,
    merged_by          text NOT NULL DEFAULT current_user,
    created_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz
);

-- Merge conflicts (owner: pggit_core/store/conflicts.py). `ours` = target, `theirs` = source.
CREATE TABLE IF NOT EXISTS pggit.conflicts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merge_id         bigint NOT NULL REFERENCES pggit.merges (id),
    source_branch    text NOT NULL,
    target_branch    text NOT NULL,
    object_key       text NOT NULL,
    object_type      text NOT NULL,
    conflict_type    text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('ERROR', 'WARNING')),
    base_def         jsonb,
    ours_def         jsonb,
    theirs_def       jsonb,
    branch_a_sql     text,
    branch_b_sql     text,
    advice           text NOT NULL DEFAULT '',
    resolved         boolean NOT NULL DEFAULT false,
    resolution       text CHECK (resolution IN ('ours', 'theirs', 'custom')),
    custom_sql       text,
    resolution_notes text,
    proposal         jsonb,
    resolved_by      text,
    resolved_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS conflicts_open ON pggit.conflicts (source_branch, target_branch)
    WHERE NOT resolved;
-- A resolution recorded with force => true (its checks skipped): who forced it.
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS forced_by text;
-- Why the merge could not decide (NULL on rows recorded before the column existed).
ALTER TABLE pggit.conflicts ADD COLUMN IF NOT EXISTS reason text;

-- The merge-conflict vocabulary, as data: every conflict_type and reason sql/merge3.sql emits, and nothing
-- else (pggit.conflicts refuses other values). Mirrored by pggit_core/conflicts.py (ConflictKind,
-- ConflictReason); tests/db/merge/test_conflict_vocabulary.py checks both directions.
CREATE TABLE IF NOT EXISTS pggit.conflict_kinds (
    kind  text PRIMARY KEY,
    about text NOT NULL
);
INSERT INTO pggit.conflict_kinds (kind, about) VALUES
    ('TABLE', 'a table-level field (comment, options, ...), or different new columns on both sides'),
    ('COLUMN', 'one column of a table'),
    ('VIEW', 'a view or materialized view'),
    ('FUNCTION', 'a function or procedure'),
    ('TYPE', 'an enum, domain or composite type (an enum''s values, too)'),
    ('SEQUENCE', 'a sequence'),
    ('INDEX', 'an index'),
    ('CONSTRAINT', 'a table constraint'),
    ('TRIGGER', 'a trigger'),
    ('POLICY', 'a row-level security policy'),
    ('DEPENDENCY', 'an object one side changed depends on what the other side removed or changed'),
    ('OBJECT', 'an object without a kind (pggit''s own snapshots always name one)')
ON CONFLICT (kind) DO UPDATE SET about = EXCLUDED.about WHERE pggit.conflict_kinds.about <> EXCLUDED.about;

CREATE TABLE IF NOT EXISTS pggit.conflict_reasons (
    reason text PRIMARY KEY,
    about  text NOT NULL
);
INSERT INTO pggit.conflict_reasons (reason, about) VALUES
    ('both_modified', 'both sides changed it differently'),
    ('both_added', 'both sides created it, with different definitions'),
    ('modify_delete', 'one side dropped (or renamed) it, the other changed it'),
    ('both_added_columns', 'both sides added different columns to one table (keeping both is safe)'),
    ('enum_values_same_position', 'both sides added enum values at the same position (keeping both is safe)'),
    ('enum_order', 'enum values that cannot be ordered for both sides'),
    ('both_added_index', 'both sides added an index with the same columns (keeping both is safe)'),
    ('both_added_fk', 'both sides added foreign keys on one table'),
    ('dependency_removed', 'what an object one side changed depends on was removed by the other side'),
    ('dependency_changed', 'what an object one side changed depends on was changed by the other side')
ON CONFLICT (reason) DO UPDATE SET about = EXCLUDED.about WHERE pggit.conflict_reasons.about <> EXCLUDED.about;

-- pggit.conflicts takes only those kinds and reasons. Added NOT VALID, then validated when every row already
-- recorded conforms (every row pggit ever wrote does); otherwise it guards new rows and says which values
-- are unknown.
DO $vocabulary$
DECLARE
    unknown text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'pggit.conflicts'::regclass
                                                 AND conname = 'conflicts_conflict_type_known') THEN
        ALTER TABLE pggit.conflicts ADD CONSTRAINT conflicts_conflict_type_known
            FOREIGN KEY (conflict_type) REFERENCES pggit.conflict_kinds (kind) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'pggit.conflicts'::regclass
                                                 AND conname = 'conflicts_reason_known') THEN
        ALTER TABLE pggit.conflicts ADD CONSTRAINT conflicts_reason_known
            FOREIGN KEY (reason) REFERENCES pggit.conflict_reasons (reason) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'pggit.conflicts'::regclass
                                                 AND conname IN ('conflicts_conflict_type_known', 'conflicts_reason_known')
                                                 AND NOT convalidated) THEN
        RETURN;  -- both valid already
    END IF;
    SELECT string_agg(DISTINCT quote_literal(c.conflict_type), ', ') INTO unknown FROM pggit.conflicts c
     WHERE NOT EXISTS (SELECT 1 FROM pggit.conflict_kinds k WHERE k.kind = c.conflict_type);
    IF unknown IS NULL THEN
        ALTER TABLE pggit.conflicts VALIDATE CONSTRAINT conflicts_conflict_type_known;
    ELSE
        RAISE WARNING 'pggit.conflicts holds conflict types pggit does not know (%): new rows are checked, '
                      'old ones are left as they are', unknown;
    END IF;
    SELECT string_agg(DISTINCT quote_literal(c.reason), ', ') INTO unknown FROM pggit.conflicts c
     WHERE c.reason IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pggit.conflict_reasons r WHERE r.reason = c.reason);
    IF unknown IS NULL THEN
        ALTER TABLE pggit.conflicts VALIDATE CONSTRAINT conflicts_reason_known;
    ELSE
        RAISE WARNING 'pggit.conflicts holds conflict reasons pggit does not know (%): new rows are checked, '
                      'old ones are left as they are', unknown;
    END IF;
END
$vocabulary$;

-- Agent intents (owner: pggit_core/store/intents.py).
CREATE TABLE IF NOT EXISTS pggit.intents (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id           text NOT NULL,
    feature_name       text NOT NULL,
    description        text NOT NULL DEFAULT '',
    branch_name        text NOT NULL,
    status             text NOT NULL DEFAULT 'registered' CHECK (status IN (
                           'registered', 'in_progress', 'completed', 'pending_review',
                           'conflicted', 'merged', 'abandoned')),
    risk_level         text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high', 'critical')),
    schema_changes     text[] NOT NULL,
    tables_affected    text[] NOT NULL DEFAULT '{}',
    footprint          jsonb NOT NULL DEFAULT '[]',
    footprint_warnings text[] NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,
    merged_at          timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
-- The Prefect flow run that drives the intent (columns added to an existing table are written this way,
-- so that re-running this file upgrades an older database).
ALTER TABLE pggit.intents ADD COLUMN IF NOT EXISTS flow_run_id text;
CREATE UNIQUE INDEX IF NOT EXISTS intents_live_feature ON pggit.intents (agent_id, feature_name)
    WHERE status NOT IN ('merged', 'abandoned');
CREATE INDEX IF NOT EXISTS intents_status ON pggit.intents (status);

-- The footprint index: one row per object an intent touches, so conflict lookups never scan intents.
CREATE TABLE IF NOT EXISTS pggit.intent_objects (
    intent_id  bigint NOT NULL REFERENCES pggit.intents (id) ON DELETE CASCADE,
    object_key text NOT NULL,
    table_key  text,
    kind       text NOT NULL,
    action     text NOT NULL,
    live       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (intent_id, object_key, action)
);
CREATE INDEX IF NOT EXISTS intent_objects_live_key ON pggit.intent_objects (object_key) WHERE live;
CREATE INDEX IF NOT EXISTS intent_objects_live_table ON pggit.intent_objects (table_key) WHERE live;

-- Every intent status change: who, when, why (owner: coordination.sql trigger).
CREATE TABLE IF NOT EXISTS pggit.intent_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    intent_id   bigint NOT NULL REFERENCES pggit.intents (id) ON DELETE CASCADE,
    from_status text,
    to_status   text NOT NULL,
    actor       text NOT NULL DEFAULT current_user,
    reason      text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS intent_events_intent ON pggit.intent_events (intent_id, id);

-- Conflicts found between intents at registration (owner: pggit_core/store/intents.py).
CREATE TABLE IF NOT EXISTS pggit.intent_conflicts (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    intent_id              bigint NOT NULL REFERENCES pggit.intents (id) ON DELETE CASCADE,
    other_intent_id        bigint NOT NULL REFERENCES pggit.intents (id) ON DELETE CASCADE,
    conflict_type          text NOT NULL,
    severity               text NOT NULL CHECK (severity IN ('ERROR', 'WARNING')),
    affected_objects       text[] NOT NULL,
    resolution_suggestions text[] NOT NULL DEFAULT '{}',
    reviewed               boolean NOT NULL DEFAULT false,
    resolution_notes       text,
    resolved_by            text,
    resolved_at            timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS intent_conflicts_intent ON pggit.intent_conflicts (intent_id);
CREATE INDEX IF NOT EXISTS intent_conflicts_other ON pggit.intent_conflicts (other_intent_id);

-- Table locks (the seed's strategy 2) with owner and expiry.
CREATE TABLE IF NOT EXISTS pggit.table_locks (
    table_name text PRIMARY KEY,
    agent_id   text NOT NULL,
    locked_at  timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    reason     text
);

-- Agent partitions (the seed's strategy 3): owned tables and schemas per agent type.
CREATE TABLE IF NOT EXISTS pggit.agent_partitions (
    agent_type    text PRIMARY KEY,
    owned_tables  text[] NOT NULL DEFAULT '{}',
    owned_schemas text[] NOT NULL DEFAULT '{}'
);

-- Generated migrations (owner: pggit_core/migrations.py).
CREATE TABLE IF NOT EXISTS pggit.migrations (
    version       text PRIMARY KEY,
    name          text NOT NULL,
    branch        text,
    parents       text[] NOT NULL DEFAULT '{}',
    from_snapshot text,
    to_snapshot   text,
    checksum      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Migrations applied to this database by `pggit migrate apply` (owner: pggit_core/migrations/apply.py).
CREATE TABLE IF NOT EXISTS pggit.applied_migrations (
    version       text PRIMARY KEY,
    name          text NOT NULL,
    from_snapshot text NOT NULL,
    to_snapshot   text NOT NULL,
    up_sha256     text NOT NULL,
    complete      boolean NOT NULL,
    applied_by    text NOT NULL DEFAULT current_user,
    applied_at    timestamptz NOT NULL DEFAULT now()
);

-- The seed's names, as views inside pggit (found unqualified once pggit is on search_path; `pggit init`
-- adds it to the database's default search_path).
CREATE OR REPLACE VIEW pggit.pggit_agent_intents WITH (security_invoker = true) AS
    SELECT id, agent_id, feature_name, branch_name, description AS intent, tables_affected, status,
           risk_level, schema_changes, coalesce(started_at, created_at) AS started_at, completed_at,
           merged_at, created_at, flow_run_id
      FROM pggit.intents;

CREATE OR REPLACE VIEW pggit.pggit_merge_history WITH (security_invoker = true) AS
    SELECT id, source_branch, target_branch, base_commit_id, had_conflicts, result, statements_applied,
           merged_by, created_at, finished_at, auto_resolve, error
      FROM pggit.merges;

CREATE OR REPLACE VIEW pggit.pggit_table_locks WITH (security_invoker = true) AS
    SELECT agent_id, table_name, locked_at, expires_at, reason FROM pggit.table_locks;

CREATE OR REPLACE VIEW pggit.pggit_agent_partitions WITH (security_invoker = true) AS
    SELECT agent_type, owned_tables, owned_schemas FROM pggit.agent_partitions;

REVOKE ALL ON ALL TABLES IN SCHEMA pggit FROM PUBLIC;

-- `pggit init` puts pggit on the database's default search_path so the seed's unqualified names resolve.
CREATE OR REPLACE FUNCTION pggit._set_database_search_path() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    current_setting_value text;
BEGIN
    SELECT array_to_string(s.setconfig, ',') INTO current_setting_value
      FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
     WHERE d.datname = current_database() AND s.setrole = 0;
    IF current_setting_value IS NULL OR current_setting_value NOT LIKE '%search_path=%' THEN
        EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, pggit', current_database());
    END IF;
END
$fn$;

-- main exists from the start, mapped onto the tracked schemas.
INSERT INTO pggit.branches (name, status) SELECT 'main', 'active'
 WHERE NOT EXISTS (SELECT 1 FROM pggit.branches WHERE name = 'main' AND status <> 'deleted');
INSERT INTO pggit.branch_schemas (branch_id, tracked_schema, physical_schema, physical_oid)
SELECT b.id, s.name, s.name, (SELECT n.oid FROM pg_namespace n WHERE n.nspname = s.name)
  FROM pggit.branches b, jsonb_array_elements_text((SELECT value FROM pggit.settings WHERE key = 'tracked_schemas')) AS s(name)
 WHERE b.name = 'main' AND b.status <> 'deleted'
ON CONFLICT DO NOTHING;
