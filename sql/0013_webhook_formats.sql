-- 0013_webhook_formats: each webhook chooses the form its deliveries take: Accord's JSON event signed the
-- Standard Webhooks way, a Slack incoming-webhook message (blocks), or a Microsoft Teams workflow message
-- (an Adaptive Card). The event, its id, its retries and its signature headers are the same for all three.
ALTER TABLE accord.webhook ADD COLUMN format text NOT NULL DEFAULT 'standard'
    CONSTRAINT webhook_format CHECK (format IN ('standard', 'slack', 'teams'));
COMMENT ON COLUMN accord.webhook.format IS 'standard (the JSON event), slack (an incoming-webhook message with blocks) or teams (a workflow message carrying an Adaptive Card).';
