DROP FUNCTION process_payment(p_id integer);
CREATE OR REPLACE FUNCTION payment_total() RETURNS numeric LANGUAGE sql STABLE PARALLEL UNSAFE COST 100
AS $pggit$ SELECT coalesce(sum(amount), 0) FROM payments WHERE amount > 0 $pggit$;
CREATE FUNCTION process_payment(p_id integer) RETURNS integer LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE COST 100 SECURITY DEFINER SET search_path TO pg_catalog
AS $pggit$
BEGIN
    RETURN p_id;
END
$pggit$;
REVOKE EXECUTE ON FUNCTION process_payment(p_id integer) FROM PUBLIC;
CREATE FUNCTION refund(p_id integer, reason text DEFAULT 'n/a'::text) RETURNS void LANGUAGE sql VOLATILE PARALLEL UNSAFE COST 100
AS $pggit$ DELETE FROM payments WHERE id = p_id $pggit$;
DROP FUNCTION fee(amount numeric);
