-- Every object kind the snapshot records, in the tracked schema `public`.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pggit_test_reader') THEN
        CREATE ROLE pggit_test_reader;
    END IF;
END $$;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%') CONSTRAINT email_len CHECK (length(VALUE) < 320);
CREATE DOMAIN positive_int AS integer DEFAULT 1 NOT NULL CHECK (VALUE > 0);
CREATE TYPE address AS (street text, city text COLLATE "C", zip varchar(10));
COMMENT ON TYPE mood IS 'how a user feels';

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$f$;
CREATE FUNCTION normalize_email(e text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $f$ SELECT lower(btrim(e)) $f$;
CREATE FUNCTION add_days(d date, n integer DEFAULT 1) RETURNS date LANGUAGE sql STABLE
    RETURN d + n;
CREATE FUNCTION secret_count() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public AS $f$ BEGIN RETURN 42; END $f$;
REVOKE EXECUTE ON FUNCTION secret_count() FROM PUBLIC;
COMMENT ON FUNCTION normalize_email(text) IS 'canonical email';
CREATE PROCEDURE archive_before(cutoff timestamptz) LANGUAGE plpgsql AS $f$
BEGIN
    DELETE FROM orders WHERE created_at < cutoff;
END
$f$;

CREATE SEQUENCE invoice_no START 1000 INCREMENT 5 CACHE 1;
GRANT USAGE ON SEQUENCE invoice_no TO pggit_test_reader;

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       email NOT NULL,
    name        text COLLATE "C",
    feeling     mood DEFAULT 'ok',
    home        address,
    score       positive_int,
    email_norm  text GENERATED ALWAYS AS (normalize_email(email)) STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_name_check CHECK (name <> '')
);
COMMENT ON TABLE users IS 'people';
COMMENT ON COLUMN users.email IS 'login';
GRANT SELECT, UPDATE ON users TO pggit_test_reader;
GRANT INSERT ON users TO pggit_test_reader WITH GRANT OPTION;

CREATE TABLE orders (
    id          serial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invoice     integer DEFAULT nextval('invoice_no'),
    total       numeric(12, 2) NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    during      tstzrange,
    CONSTRAINT orders_total_nonneg CHECK (total >= 0) NOT VALID
);
CREATE UNIQUE INDEX orders_invoice_idx ON orders (invoice) WHERE invoice IS NOT NULL;
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC);
CREATE INDEX users_lower_name_idx ON users (lower(name));
COMMENT ON INDEX orders_user_created_idx IS 'for the orders page';
COMMENT ON CONSTRAINT orders_total_nonneg ON orders IS 'no refunds here';

CREATE TABLE order_items (
    order_id    integer NOT NULL,
    line        smallint NOT NULL,
    sku         text NOT NULL,
    qty         integer NOT NULL DEFAULT 1,
    PRIMARY KEY (order_id, line),
    FOREIGN KEY (order_id) REFERENCES orders (id) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE bookings (
    id      integer PRIMARY KEY,
    room    integer NOT NULL,
    during  int4range NOT NULL,
    EXCLUDE USING gist (during WITH &&)
);

CREATE UNLOGGED TABLE cache_entries (k text PRIMARY KEY, v jsonb);
COMMENT ON TABLE cache_entries IS E'caché "quoted" \\ tab\t bell\x07 done';

CREATE TABLE events (
    id          bigint NOT NULL,
    happened_at timestamptz NOT NULL,
    payload     jsonb,
    PRIMARY KEY (id, happened_at)
) PARTITION BY RANGE (happened_at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_payload_idx ON events USING gin (payload);

CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER orders_big AFTER INSERT ON orders FOR EACH ROW WHEN (NEW.total > 1000)
    EXECUTE FUNCTION touch_updated_at();
ALTER TABLE orders DISABLE TRIGGER orders_big;
COMMENT ON TRIGGER users_touch ON users IS 'keeps updated_at';

ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY orders_own ON orders FOR SELECT TO pggit_test_reader USING (user_id = 1);
CREATE POLICY orders_insert ON orders AS RESTRICTIVE FOR INSERT WITH CHECK (total < 10000);

CREATE VIEW active_users AS SELECT id, email, name FROM users WHERE feeling <> 'sad';
CREATE VIEW big_orders WITH (security_barrier = true) AS
    SELECT o.id, o.total, u.email FROM orders o JOIN active_users u ON u.id = o.user_id WHERE o.total > 100;
CREATE MATERIALIZED VIEW order_totals AS
    SELECT user_id, sum(total) AS total FROM orders GROUP BY user_id WITH NO DATA;
CREATE UNIQUE INDEX order_totals_user_idx ON order_totals (user_id);
GRANT SELECT ON active_users TO pggit_test_reader;
GRANT SELECT (id, email), UPDATE (name) ON users TO PUBLIC;
COMMENT ON VIEW active_users IS 'not sad';

CREATE FUNCTION users_named(p text) RETURNS SETOF users LANGUAGE sql STABLE
    AS $f$ SELECT * FROM users WHERE name = p $f$;

INSERT INTO users (email, name, feeling) VALUES ('a@x.io', 'ann', 'happy'), ('b@x.io', 'bob', 'sad');
INSERT INTO orders (user_id, total) VALUES (1, 10), (1, 2000), (2, 5);
INSERT INTO order_items VALUES (1, 1, 'sku-1', 2), (1, 2, 'sku-2', 1), (2, 1, 'sku-1', 5);
