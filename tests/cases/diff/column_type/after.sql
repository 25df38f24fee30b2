DROP VIEW big_order_ids;
DROP VIEW big_orders;
ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);
ALTER TABLE orders ALTER COLUMN code TYPE text;
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE VIEW big_order_ids AS SELECT id FROM big_orders;
