DROP INDEX sales_by_region_idx;
DROP MATERIALIZED VIEW sales_by_region;
CREATE MATERIALIZED VIEW sales_by_region AS SELECT sales.region,
    sum(sales.amount) AS total,
    count(*) AS n
   FROM sales
  GROUP BY sales.region;
CREATE UNIQUE INDEX sales_by_region_idx ON sales_by_region USING btree (region);
