CREATE OR REPLACE FUNCTION payment_total() RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(amount), 0) FROM payments WHERE amount > 0 $$;
DROP FUNCTION process_payment(integer);
CREATE FUNCTION process_payment(p_id integer) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    RETURN p_id;
END
$$;
REVOKE EXECUTE ON FUNCTION process_payment(integer) FROM PUBLIC;
CREATE FUNCTION refund(p_id integer, reason text DEFAULT 'n/a') RETURNS void LANGUAGE sql AS $$ DELETE FROM payments WHERE id = p_id $$;
DROP FUNCTION fee(numeric);
