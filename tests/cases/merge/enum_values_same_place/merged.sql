ALTER TYPE mood ADD VALUE 'happy';
ALTER TYPE mood ADD VALUE 'ecstatic';
