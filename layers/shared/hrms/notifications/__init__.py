"""Notifications (issue #19): email through SES for outbox events, and each user's preferences.

- `notifier.handle` (NotifierFunction, on OutboxQueue through `hrms.outbox.consumer`) mails the
  recipients of each event (`recipients`), rendered from `templates` (tenant name, plain text + HTML)
  and sent by `mailer` (SES v2). One row per (eventId, recipient) in the tenant's `notifications`
  table makes redelivered events harmless; a recipient SES refuses is recorded `failed` and the record
  fails, so SQS delivers it again (visibility timeout) and dead-letters it after maxReceiveCount; the
  other recipients and records are not affected, and are not mailed twice.
- `service`: GET/PUT /me/notification-preferences; every event is on unless the user turned it off,
  and security mail (`ESSENTIAL`) cannot be turned off.
"""
