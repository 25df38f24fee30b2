CREATE OR REPLACE FUNCTION process_payment(amount integer) RETURNS integer LANGUAGE sql AS $$ SELECT amount + 1 $$;
