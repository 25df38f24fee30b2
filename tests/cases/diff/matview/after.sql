DROP MATERIALIZED VIEW sales_by_region;
CREATE MATERIALIZED VIEW sales_by_region AS SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region;
CREATE UNIQUE INDEX sales_by_region_idx ON sales_by_region (region);
