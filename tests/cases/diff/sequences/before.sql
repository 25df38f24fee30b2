CREATE SEQUENCE ticket_no START 100;
CREATE TABLE tickets (id integer PRIMARY KEY DEFAULT nextval('ticket_no'));
