DROP VIEW invoice_totals;
DROP TABLE lines;
DROP TABLE invoices;
ALTER TABLE kept DROP CONSTRAINT kept_customer_id_fkey;
DROP TABLE customers;
