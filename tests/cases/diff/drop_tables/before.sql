CREATE TABLE customers (id serial PRIMARY KEY, name text);
CREATE TABLE invoices (id serial PRIMARY KEY, customer_id integer REFERENCES customers (id));
CREATE TABLE lines (invoice_id integer REFERENCES invoices (id), amount numeric);
CREATE INDEX lines_invoice_idx ON lines (invoice_id);
CREATE VIEW invoice_totals AS SELECT invoice_id, sum(amount) AS total FROM lines GROUP BY invoice_id;
CREATE TABLE kept (id integer PRIMARY KEY, customer_id integer REFERENCES customers (id));
