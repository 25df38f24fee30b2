CREATE TABLE search_index (id serial, content tsvector);
CREATE TABLE search_logs (id serial, query text, results integer);
