-- 0018_assistant_drafts: evidence an AI assistant drafted through Accord's MCP server names the assistant.
-- The person whose token the assistant holds is still the uploader and still submits the task; the column
-- says which tool wrote the words, so a reviewer and an auditor see it beside the file.

ALTER TABLE accord.evidence ADD COLUMN drafted_with text
    CONSTRAINT evidence_drafted_with_length CHECK (drafted_with IS NULL OR length(drafted_with) BETWEEN 1 AND 200);
COMMENT ON COLUMN accord.evidence.drafted_with IS
    'The tool that drafted this version when it was not the uploader by hand: ''AI assistant (NAME) via MCP''. NULL for an upload.';
