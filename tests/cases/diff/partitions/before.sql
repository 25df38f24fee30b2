CREATE TABLE measurements (id bigint NOT NULL, taken_at date NOT NULL, value numeric) PARTITION BY RANGE (taken_at);
CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX measurements_taken_idx ON measurements (taken_at);
