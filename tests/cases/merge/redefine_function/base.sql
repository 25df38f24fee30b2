CREATE FUNCTION process_payment(amount integer) RETURNS integer LANGUAGE sql AS $$ SELECT amount $$;
