ALTER SEQUENCE ticket_no INCREMENT BY 10 CACHE 5;
CREATE TABLE events (id bigserial PRIMARY KEY, ticket_id integer);
CREATE SEQUENCE batch_no AS integer MAXVALUE 9999 CYCLE;
