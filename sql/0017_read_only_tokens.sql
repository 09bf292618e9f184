-- 0017_read_only_tokens: an API token may be read-only. It reads what its person may read and changes
-- nothing: the API refuses it every method but GET and HEAD. For an AI assistant's connection, say, that
-- should answer questions and never act.

ALTER TABLE accord.api_token ADD COLUMN read_only boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN accord.api_token.read_only IS 'A read-only token: GET and HEAD only; every change is refused (403).';
