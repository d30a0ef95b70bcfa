-- The transactional outbox (issue #14, DESIGN.md 5a): a request writes its events here in its own
-- transaction; the relay (hrms.outbox) puts them on SQS right after the commit, and the scheduled sweep
-- delivers whatever that left behind. A row is unpublished while published_at is null; attempts counts
-- failed publications. Published rows are purged after OUTBOX_RETENTION_DAYS.
-- event_id is the consumers' dedupe key: random, so it stays unique when a schema is restored from a
-- backup (the id sequence then restarts from the backup's value and would reuse ids already delivered).
CREATE TABLE @schema.outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    event_type   text NOT NULL,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unpublished_idx ON @schema.outbox (id) WHERE published_at IS NULL;
