ALTER TYPE mood ADD VALUE 'ecstatic';
