DROP VIEW big_order_ids;
DROP VIEW big_orders;
DROP INDEX orders_code_idx;
ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2) USING total::numeric(14,2);
ALTER TABLE orders ALTER COLUMN code TYPE text USING code::text;
CREATE INDEX orders_code_idx ON orders USING btree (code);
CREATE VIEW big_orders AS SELECT orders.id,
    orders.total
   FROM orders
  WHERE orders.total > 100::numeric;
CREATE VIEW big_order_ids AS SELECT big_orders.id
   FROM big_orders;
