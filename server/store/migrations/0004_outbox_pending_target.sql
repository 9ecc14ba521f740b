-- A phone that connects is offered its pending pushes, and every few
-- seconds those of every connected phone are read again: by token.
CREATE INDEX outbox_pending_target ON outbox (kind, target) WHERE state = 'pending';
