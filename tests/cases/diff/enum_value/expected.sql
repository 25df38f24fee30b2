CREATE TYPE priority AS ENUM ('low', 'high');
ALTER TYPE status ADD VALUE 'doing' AFTER 'new';
ALTER TYPE status ADD VALUE 'archived' AFTER 'done';
ALTER TABLE tasks ADD COLUMN priority priority;
