-- A server sharing the database looks up the pending pushes of the phones
-- connected to it, by token, on every connect and every few seconds.
CREATE INDEX outbox_pending_target ON outbox (kind, target) WHERE state = 'pending';
