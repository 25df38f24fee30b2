CREATE TABLE payments (id integer PRIMARY KEY, amount numeric NOT NULL);
CREATE FUNCTION payment_total() RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(amount), 0) FROM payments $$;
CREATE FUNCTION process_payment(p_id integer) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM payments WHERE id = p_id);
END
$$;
CREATE FUNCTION fee(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT amount * 0.02 $$;
