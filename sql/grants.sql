-- grants.sql: the privileges pggit gives its roles (security.sql), made after every object exists. Runs
-- last; idempotent. docs/threat-model.md says what each privilege is for.
--
-- Principle: a SECURITY INVOKER function can do no more than its caller may, so every pggit function is
-- executable by pggit's roles; the SECURITY DEFINER ones check who calls them (pggit._invoker,
-- _is_merger, branch owners) before they write. Internal steps that write with pggit's rights and check
-- nothing themselves are executable by pggit's owner only.

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA pggit FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pggit TO pggit_agent, pggit_merger;
REVOKE EXECUTE ON FUNCTION
    pggit._record_commit(bigint, text, text, jsonb, boolean),
    pggit._store_snapshot(jsonb),
    pggit._settle(bigint, jsonb, text, text, boolean),
    pggit._op_begin(bigint, text, bigint, jsonb),
    pggit._op_end(bigint),
    pggit._capture_ddl(),
    pggit._capture_drop(),
    pggit._grant_main_read(),
    pggit._agent_password(text),
    pggit._password_verifier(text),
    pggit.add_agent(text, boolean, boolean),
    pggit.remove_agent(text, boolean),
    pggit._set_database_search_path(),
    pggit._intent_status_audit(),
    pggit._table_lock_reap()
FROM pggit_agent, pggit_merger;

-- Reading: every table of pggit but the agents' passwords.
GRANT SELECT ON ALL TABLES IN SCHEMA pggit TO pggit_agent, pggit_merger;
REVOKE ALL ON pggit.agents, pggit.operations, pggit.dropped FROM pggit_agent, pggit_merger;
-- Writing, by row-level policy (coordination.sql): intent status, table locks. Mergers define partitions
-- and record migrations.
GRANT UPDATE (status) ON pggit.intents, pggit.pggit_agent_intents TO pggit_agent, pggit_merger;
GRANT INSERT, DELETE, UPDATE (expires_at, reason) ON pggit.table_locks, pggit.pggit_table_locks TO pggit_agent, pggit_merger;
GRANT INSERT, UPDATE, DELETE ON pggit.agent_partitions, pggit.pggit_agent_partitions, pggit.migrations,
    pggit.applied_migrations TO pggit_merger;

-- Agents read main: its schemas and what is in them (pggit_agent's grants are not part of snapshots).
SELECT pggit._grant_main_read();
