-- Notifications and password resets (issue #19, hrms.notifications, hrms.auth.reset).
--
-- notifications: one row per (outbox event, recipient user) the Notifier acted on: the dedupe record of
-- at-least-once delivery (eventId is the outbox envelope's). `sending` is a claim (a delivery is mailing
-- it now; a claim older than the Notifier's timeout is taken over), `sent` carries SES's message id,
-- `failed` the reason SES (or the network) gave and how many attempts were made (the event is retried
-- through the queue, then dead-lettered), `skipped` a recipient who turned that event off.
CREATE TABLE @schema.notifications (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    user_id     uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'skipped')),
    attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    message_id  text,
    failure     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, user_id),
    CHECK ((status = 'sent') = (message_id IS NOT NULL))
);
CREATE INDEX notifications_created_idx ON @schema.notifications (created_at);

-- The events a user turned off (GET/PUT /me/notification-preferences); security mail cannot be muted.
CREATE TABLE @schema.notification_preferences (
    user_id    uuid PRIMARY KEY REFERENCES @schema.users (id) ON DELETE CASCADE,
    muted      text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- POST /auth/forgot-password requests that were accepted for an active user (the rate limits count them).
CREATE TABLE @schema.password_reset_requests (
    id           bigserial PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES @schema.users (id) ON DELETE CASCADE,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_requests_time_idx ON @schema.password_reset_requests (requested_at);
CREATE INDEX password_reset_requests_user_idx ON @schema.password_reset_requests (user_id, requested_at);

-- Single-use reset tokens, made by the Notifier when it mails the link (one per password.reset_requested
-- event). Only the SHA-256 of the token's secret part is kept; `id` is its public selector. A token
-- works once (used_at), until expires_at, and only while the user's credentials epoch is still the one
-- it was issued under (any password change or reset, role change or disabling revokes it).
CREATE TABLE @schema.password_reset_tokens (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES @schema.users (id) ON DELETE CASCADE,
    event_id          uuid NOT NULL UNIQUE,
    verifier_hash     bytea NOT NULL CHECK (length(verifier_hash) = 32),
    credentials_epoch integer NOT NULL,
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_reset_tokens_user_idx ON @schema.password_reset_tokens (user_id);
