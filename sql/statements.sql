-- statements.sql: pggit's reading of SQL text, shared by capture (what a client message contained),
-- merge (what may be replayed) and conflict resolution (what custom SQL may do). Idempotent.
--
-- pggit.statements(text) splits a script into its top-level statements the way PostgreSQL's own lexer
-- ends them (quotes, E'' escapes, "identifiers", $tag$ bodies, nested /* */ and -- comments,
-- parentheses, BEGIN ATOMIC ... END bodies) and classifies each one:
--   ddl          a schema change pggit versions and may replay on another branch (CREATE/ALTER/DROP/
--                COMMENT/GRANT/REVOKE of tables, columns, indexes, views, sequences, types, domains,
--                functions, procedures, aggregates, triggers, policies, collations, operators, text search
--                objects, statistics, foreign tables, extensions)
--   ddl_other    DDL that is never replayed: roles, databases, tablespaces, schemas themselves, rules,
--                ownership (OWNER TO), default privileges, security labels, event triggers, publications,
--                subscriptions, servers, languages, casts, temporary objects, anything naming pggit
--   data         statements that read or change rows or run code: SELECT, INSERT, UPDATE, DELETE, MERGE,
--                TRUNCATE, COPY, DO, CALL, EXECUTE, REFRESH, VACUUM, ...
--   session      SET, RESET, SHOW, DISCARD, LISTEN (session state)
--   transaction  BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...
--   pggit        a call of pggit's own SQL API (SELECT pggit.checkout(...)) (never replayed)
--   incomplete   the text ends inside a quote, identifier, dollar body or comment
-- The classification reads a skeleton of the statement (literals blanked), never the literals themselves,
-- so text inside strings, bodies and comments cannot change it. When in doubt it answers ddl_other: a
-- statement that is not replayed makes the merge apply pggit's own plan instead, never something else.

-- The statements of a script in order: the exact text of each (trimmed, without its `;`), its skeleton
-- (string and dollar literals emptied, comments removed) and whether it is complete.
CREATE OR REPLACE FUNCTION pggit._split_sql(src text)
RETURNS TABLE (ord integer, body text, skeleton text, complete boolean)
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $fn$
DECLARE
    -- Tokens, left to right: the two-character delimiters, the characters that change the lexer's state,
    -- and runs of anything else (a lone - / or * among them).
    toks text[];
    offs integer[];        -- byte offset of each token in raw
    raw bytea := convert_to(src, getdatabaseencoding());
    si integer := 1;       -- the first token of the current statement
    n integer;
    i integer := 0;
    t text;
    code text;             -- code text to add to the skeleton (and scan for BEGIN ATOMIC)
    state char := 'n';     -- n: code, s: 'string', e: E'string', q: "identifier", d: $tag$ body, l: -- comment, b: /* */
    tag text;
    depth integer := 0;    -- parentheses
    bdepth integer := 0;   -- nested block comments
    atomic integer := 0;   -- BEGIN ATOMIC ... END nesting
    check_atomic boolean := src ~* '\matomic\M';
    last_word text := '';
    w text;
    nl integer;
    stmt text;
    skel text := '';
    k integer := 0;
BEGIN
    SELECT coalesce(array_agg(x.tok ORDER BY x.o), '{}'), coalesce(array_agg(x.off ORDER BY x.o), '{}')
      INTO toks, offs
      FROM (SELECT m.a[1] AS tok, m.o,
                   1 + coalesce(sum(octet_length(m.a[1])) OVER (ORDER BY m.o ROWS BETWEEN UNBOUNDED PRECEDING
                                                                            AND 1 PRECEDING), 0)::integer AS off
              FROM regexp_matches(src, '(--|/\*|\*/|[;''"$()\\]|[^-/*;''"$()\\]+|[-/*])', 'g')
                   WITH ORDINALITY AS m(a, o)) x;
    n := cardinality(toks);
    WHILE i < n LOOP
        i := i + 1;
        t := toks[i];
        code := NULL;
        IF state = 'n' THEN
            IF t = '--' THEN
                state := 'l';
                skel := skel || ' ';
            ELSIF t = '/*' THEN
                state := 'b';
                bdepth := 1;
                skel := skel || ' ';
            ELSIF t = ';' THEN
                IF depth = 0 AND atomic = 0 THEN
                    stmt := convert_from(substring(raw FROM offs[si] FOR offs[i] - offs[si]), getdatabaseencoding());
                    si := i + 1;
                    IF btrim(stmt, E' \t\r\n\f') <> '' THEN
                        k := k + 1;
                        ord := k; body := btrim(stmt, E' \t\r\n\f'); skeleton := btrim(skel); complete := true;
                        RETURN NEXT;
                    END IF;
                    skel := '';
                    last_word := '';
                ELSE
                    skel := skel || ';';
                END IF;
            ELSIF t = '''' THEN
                -- E'...' (backslash escapes) when the quote follows a lone E
                state := CASE WHEN i > 1 AND toks[i - 1] ~ '(^|[^A-Za-z0-9_$])[Ee]$' THEN 'e' ELSE 's' END;
                skel := skel || '''';
            ELSIF t = '"' THEN
                state := 'q';
                skel := skel || '"';
            ELSIF t = '$' AND i < n AND (i = 1 OR toks[i - 1] !~ '[A-Za-z0-9_$]$')
                  AND (toks[i + 1] = '$' OR (i + 1 < n AND toks[i + 2] = '$' AND toks[i + 1] ~ '^[A-Za-z_][A-Za-z0-9_]*$')) THEN
                -- $tag$ opens a dollar-quoted body
                state := 'd';
                IF toks[i + 1] = '$' THEN
                    tag := '';
                    i := i + 1;
                ELSE
                    tag := toks[i + 1];
                    i := i + 2;
                END IF;
                skel := skel || '$$';
            ELSIF t = '(' THEN
                depth := depth + 1;
                skel := skel || '(';
            ELSIF t = ')' THEN
                depth := greatest(depth - 1, 0);
                skel := skel || ')';
            ELSE
                code := t;
            END IF;
        ELSIF state IN ('s', 'e') THEN
            IF state = 'e' AND t = '\' AND i < n AND toks[i + 1] IN ('''', '\') THEN
                i := i + 1;  -- an escaped quote or backslash
            ELSIF t = '''' THEN
                IF i < n AND toks[i + 1] = '''' THEN
                    i := i + 1;  -- '' inside a string
                ELSE
                    state := 'n';
                    skel := skel || '''';
                END IF;
            END IF;
        ELSIF state = 'q' THEN
            IF t = '"' THEN
                IF i < n AND toks[i + 1] = '"' THEN
                    i := i + 1;
                    skel := skel || '""';
                ELSE
                    state := 'n';
                    skel := skel || '"';
                END IF;
            ELSE
                skel := skel || t;
            END IF;
        ELSIF state = 'd' THEN
            IF t = '$' AND ((tag = '' AND i < n AND toks[i + 1] = '$')
                            OR (tag <> '' AND i + 1 < n AND toks[i + 1] = tag AND toks[i + 2] = '$')) THEN
                i := i + CASE WHEN tag = '' THEN 1 ELSE 2 END;
                skel := skel || '$$';
                state := 'n';
            END IF;
        ELSIF state = 'l' THEN
            nl := strpos(t, E'\n');
            IF nl > 0 THEN
                state := 'n';
                code := substr(t, nl);
            END IF;
        ELSE  -- 'b'
            IF t = '/*' THEN
                bdepth := bdepth + 1;
            ELSIF t = '*/' THEN
                bdepth := bdepth - 1;
                IF bdepth = 0 THEN
                    state := 'n';
                    skel := skel || ' ';
                END IF;
            END IF;
        END IF;
        IF code IS NOT NULL THEN
            skel := skel || code;
            IF check_atomic THEN
                FOR w IN SELECT upper(m[1]) FROM regexp_matches(code, '([A-Za-z_][A-Za-z0-9_$]*)', 'g') AS m LOOP
                    IF w = 'ATOMIC' AND last_word = 'BEGIN' THEN
                        atomic := atomic + 1;
                    ELSIF atomic > 0 AND w = 'CASE' THEN
                        atomic := atomic + 1;
                    ELSIF atomic > 0 AND w = 'END' THEN
                        atomic := atomic - 1;
                    END IF;
                    last_word := w;
                END LOOP;
            END IF;
        END IF;
    END LOOP;
    stmt := CASE WHEN si <= n THEN convert_from(substring(raw FROM offs[si]), getdatabaseencoding()) ELSE '' END;
    IF btrim(stmt, E' \t\r\n\f') <> '' THEN
        k := k + 1;
        ord := k; body := btrim(stmt, E' \t\r\n\f'); skeleton := btrim(skel);
        complete := state IN ('n', 'l') AND atomic = 0;
        RETURN NEXT;
    END IF;
END
$fn$;

-- The class of one statement, from its skeleton (see the header).
CREATE OR REPLACE FUNCTION pggit._statement_class(skeleton text, complete boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $fn$
DECLARE
    s text := upper(regexp_replace(coalesce(skeleton, ''), '^[\s(]+', ''));
    words text[];
    head text;
    second text;
    kind text;
    i integer;
    on_pos integer;
    replayable_kinds text[] := ARRAY['TABLE', 'INDEX', 'VIEW', 'MATERIALIZED', 'SEQUENCE', 'TYPE', 'DOMAIN',
        'FUNCTION', 'PROCEDURE', 'ROUTINE', 'AGGREGATE', 'TRIGGER', 'POLICY', 'COLLATION', 'CONVERSION',
        'OPERATOR', 'TEXT', 'STATISTICS', 'FOREIGN', 'EXTENSION', 'COLUMN', 'CONSTRAINT'];
BEGIN
    IF s = '' THEN
        RETURN 'empty';
    END IF;
    IF NOT complete THEN
        RETURN 'incomplete';
    END IF;
    words := ARRAY(SELECT m[1] FROM regexp_matches(s, '([A-Z_][A-Z0-9_$]*)', 'g') AS m LIMIT 12);
    head := words[1];
    second := coalesce(words[2], '');
    IF head IN ('BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE')
       OR (head = 'PREPARE' AND second = 'TRANSACTION') THEN
        RETURN 'transaction';
    END IF;
    IF head IN ('SET', 'RESET', 'SHOW', 'DISCARD', 'LISTEN', 'UNLISTEN') THEN
        RETURN 'session';
    END IF;
    IF head = 'SELECT' AND s ~ '^SELECT\s+(\*\s+FROM\s+)?("?PGGIT"?\s*\.\s*"?[A-Z_][A-Z0-9_]*"?\s*\()' THEN
        RETURN 'pggit';
    END IF;
    IF head IS NULL OR head NOT IN ('CREATE', 'ALTER', 'DROP', 'COMMENT', 'GRANT', 'REVOKE', 'SECURITY', 'IMPORT') THEN
        RETURN 'data';
    END IF;
    -- DDL from here on. Anything naming pggit's own schema, or changing ownership, is never replayed.
    IF s ~ '(^|[^A-Z0-9_$"])"?PGGIT"?\s*\.' OR s ~ '\mOWNER\s+TO\M' THEN
        RETURN 'ddl_other';
    END IF;
    IF head IN ('SECURITY', 'IMPORT') THEN
        RETURN 'ddl_other';
    END IF;
    IF head IN ('GRANT', 'REVOKE') THEN
        -- object privileges only (GRANT ... ON <object> TO ...); role membership has no ON
        on_pos := array_position(words, 'ON');
        IF on_pos IS NULL THEN
            RETURN 'ddl_other';
        END IF;
        kind := coalesce(words[on_pos + 1], '');
        IF kind IN ('DATABASE', 'TABLESPACE', 'LANGUAGE', 'LARGE', 'FOREIGN', 'PARAMETER', 'SCHEMA') THEN
            RETURN 'ddl_other';
        END IF;
        RETURN 'ddl';
    END IF;
    IF head = 'COMMENT' THEN
        kind := CASE WHEN second = 'ON' THEN coalesce(words[3], '') ELSE '' END;
        IF kind = ANY (replayable_kinds) AND NOT (kind = 'FOREIGN' AND coalesce(words[4], '') <> 'TABLE') THEN
            RETURN 'ddl';
        END IF;
        RETURN 'ddl_other';
    END IF;
    -- CREATE [OR REPLACE] [modifiers] kind / ALTER kind / DROP kind
    i := 2;
    IF head = 'CREATE' THEN
        IF words[i] = 'OR' AND words[i + 1] = 'REPLACE' THEN
            i := i + 2;
        END IF;
        IF words[i] IN ('TEMP', 'TEMPORARY') OR (words[i] IN ('GLOBAL', 'LOCAL') AND words[i + 1] IN ('TEMP', 'TEMPORARY')) THEN
            RETURN 'ddl_other';
        END IF;
        WHILE words[i] IN ('UNLOGGED', 'UNIQUE', 'RECURSIVE', 'CONSTRAINT', 'DEFAULT', 'TRUSTED', 'PROCEDURAL') LOOP
            i := i + 1;
        END LOOP;
    END IF;
    kind := coalesce(words[i], '');
    IF kind = 'FOREIGN' AND coalesce(words[i + 1], '') <> 'TABLE' THEN
        RETURN 'ddl_other';
    END IF;
    IF kind = 'TEXT' AND coalesce(words[i + 1], '') <> 'SEARCH' THEN
        RETURN 'ddl_other';
    END IF;
    IF kind IN ('COLUMN', 'CONSTRAINT') OR NOT (kind = ANY (replayable_kinds)) THEN
        RETURN 'ddl_other';
    END IF;
    RETURN 'ddl';
END
$fn$;

-- pggit.statements(sql): the statements of a script with their class (see the header), in order.
CREATE OR REPLACE FUNCTION pggit.statements(script text)
RETURNS TABLE (ord integer, statement text, class text)
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT s.ord, s.body, pggit._statement_class(s.skeleton, s.complete)
      FROM pggit._split_sql(coalesce(script, '')) AS s
     ORDER BY s.ord
$fn$;
COMMENT ON FUNCTION pggit.statements(text) IS
    'The top-level statements of a script, each with its class (ddl, ddl_other, data, session, transaction, pggit, incomplete)';

-- Whether a statement cannot run inside a transaction block: the statements PostgreSQL 15 refuses there
-- (PreventInTransactionBlock) that a schema change, a plan or a captured script can hold. The one definition:
-- the merge replay and the migration generator (for the up/down files) both ask it. CREATE / DROP SUBSCRIPTION
-- refuse only with a replication slot; they count here always (running them alone is always safe).
CREATE OR REPLACE FUNCTION pggit._needs_own_transaction(skeleton text) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $fn$
    SELECT upper(coalesce(skeleton, '')) ~ '^\s*(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\s.*\mCONCURRENTLY\M|REINDEX\s+(\(.*\)\s*)?(SCHEMA|SYSTEM|DATABASE)\M|ALTER\s+TABLE\s.*\mDETACH\s+PARTITION\s.*\mCONCURRENTLY\M|VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|CREATE\s+TABLESPACE|DROP\s+TABLESPACE|CREATE\s+SUBSCRIPTION|DROP\s+SUBSCRIPTION)'
$fn$;
