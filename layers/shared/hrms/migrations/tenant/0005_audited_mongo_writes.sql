-- Audit rows of MongoDB-side writes are delivered at least once (hrms.db.mongo_audit); the event
-- id they carry keeps them to one row each.
ALTER TABLE @schema.audit_logs ADD COLUMN event_id uuid;
CREATE UNIQUE INDEX audit_logs_event_idx ON @schema.audit_logs (event_id) WHERE event_id IS NOT NULL;
