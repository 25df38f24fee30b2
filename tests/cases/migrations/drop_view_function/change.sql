DROP VIEW t_big;
DROP FUNCTION t_count();
