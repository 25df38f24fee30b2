-- pggit-migration: 1
-- direction: down
-- name: drop_table
-- version: 20261124120000
-- parents: (none)
-- branch: case/drop-table
-- from_snapshot: <from_snapshot>
-- to_snapshot: <to_snapshot>
-- commits: <ids>
-- hazards: none
-- reversible: no, 1 part cannot be undone:
--   table:public.audit_log: table public.audit_log is recreated empty: its rows were dropped by the up migration and are not restored
-- reverts <to_snapshot> -> <from_snapshot>.

BEGIN;
SET LOCAL check_function_bodies = off;
SET LOCAL search_path = "public";

-- DATA LOSS (irreversible): table public.audit_log is recreated empty: its rows were dropped by the up migration and are not restored
CREATE TABLE audit_log (id bigint NOT NULL GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 NO CYCLE), user_id integer, at timestamp with time zone DEFAULT now() NOT NULL);

ALTER TABLE audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE audit_log ADD CONSTRAINT audit_log_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id);

COMMIT;
