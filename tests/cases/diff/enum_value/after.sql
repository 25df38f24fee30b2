ALTER TYPE status ADD VALUE 'doing' AFTER 'new';
ALTER TYPE status ADD VALUE 'archived';
CREATE TYPE priority AS ENUM ('low', 'high');
ALTER TABLE tasks ADD COLUMN priority priority;
