-- diff.sql: pggit.diff(a, b) between two branches or commits: per object added/removed/changed with
-- the fields that differ and the SQL that turns a into b, in dependency order (pggit._plan).
-- Idempotent (CREATE OR REPLACE only).

-- The snapshot document a ref names: a branch name (its live schema) or `@<commit id>` (the commit's
-- stored snapshot).
CREATE OR REPLACE FUNCTION pggit._resolve_ref(ref text) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $fn$
DECLARE
    commit_id bigint;
    doc jsonb;
BEGIN
    IF ref IS NULL OR btrim(ref) = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = 'a diff side is empty',
              HINT = 'pass a branch name (main, agent/x) or a commit as @<id> (ids from pggit.log)';
    END IF;
    IF left(ref, 1) = '@' THEN
        IF substr(ref, 2) !~ '^[0-9]{1,18}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG61', MESSAGE = format('%L is not a commit ref', ref),
                  HINT = 'write a commit as @ followed by its id, e.g. @12 (ids from pggit.log)';
        END IF;
        commit_id := substr(ref, 2)::bigint;
        SELECT s.doc INTO doc FROM pggit.commits c JOIN pggit.snapshots s ON s.hash = c.snapshot_hash
         WHERE c.id = commit_id;
        IF doc IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'PGG40', MESSAGE = format('commit %s does not exist', commit_id),
                  HINT = 'list commits with SELECT * FROM pggit.log(''<branch>'')';
        END IF;
        RETURN doc;
    END IF;
    RETURN pggit._snapshot_of(pggit._branch_id(ref));
END
$fn$;

-- Rows of the plan between two documents, labelled for people: object type and name.
-- `change` is added / removed / changed, or `rebuilt` for an unchanged object that must be dropped and
-- created again because something it depends on is replaced (its rows carry statements only).
CREATE OR REPLACE FUNCTION pggit._diff_docs(a jsonb, b jsonb)
RETURNS TABLE (ord integer, object_key text, object_type text, object_name text, change text, fields text[],
               statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT p.ord, p.object_key,
           coalesce(b->'objects'->p.object_key->>'kind', a->'objects'->p.object_key->>'kind'),
           substr(p.object_key, position(':' IN p.object_key) + 1),
           p.change, p.fields, p.statement
      FROM pggit._plan(a, b) p
     ORDER BY p.ord
$fn$;

CREATE OR REPLACE FUNCTION pggit.diff(a text, b text)
RETURNS TABLE (ord integer, object_key text, object_type text, object_name text, change text, fields text[],
               statement text)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $fn$
    SELECT * FROM pggit._diff_docs(pggit._resolve_ref(a), pggit._resolve_ref(b))
$fn$;
COMMENT ON FUNCTION pggit.diff(text, text) IS
    'What differs between two branches or commits (@id), with the SQL that turns a into b, in order';
