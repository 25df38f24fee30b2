CREATE TABLE orders (id integer PRIMARY KEY, total numeric(10,2) NOT NULL DEFAULT 0, code varchar(10));
CREATE INDEX orders_code_idx ON orders (code);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE VIEW big_order_ids AS SELECT id FROM big_orders;
