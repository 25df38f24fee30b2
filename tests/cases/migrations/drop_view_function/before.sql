CREATE TABLE t (id integer PRIMARY KEY, n integer);
CREATE VIEW t_big AS SELECT id FROM t WHERE n > 10;
CREATE FUNCTION t_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM t';
