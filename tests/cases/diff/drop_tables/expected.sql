DROP VIEW invoice_totals;
ALTER TABLE invoices DROP CONSTRAINT invoices_customer_id_fkey;
ALTER TABLE kept DROP CONSTRAINT kept_customer_id_fkey;
ALTER TABLE lines DROP CONSTRAINT lines_invoice_id_fkey;
DROP TABLE customers;
DROP TABLE invoices;
DROP TABLE lines;
