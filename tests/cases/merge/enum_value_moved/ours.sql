ALTER TYPE mood ADD VALUE 'happy' BEFORE 'ok';
