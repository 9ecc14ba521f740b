-- The SQLite schema (migrations 0001 and 0002) in PostgreSQL's types:
-- documents as JSON text, the columns the queries filter on beside them,
-- times as the SQLite store keeps them (unix seconds for created and
-- expires, milliseconds in the outbox) so both engines compare alike.
CREATE TABLE secrets (
  name  text PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE services (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  doc text NOT NULL
);
CREATE TABLE entities (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid         text NOT NULL UNIQUE,
  service_sid text NOT NULL,
  identity    text NOT NULL,
  doc         text NOT NULL,
  UNIQUE (service_sid, identity)
);
CREATE TABLE factors (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid            text NOT NULL UNIQUE,
  entity_sid     text NOT NULL,
  credential_sid text NOT NULL UNIQUE,
  factor_type    text NOT NULL,
  status         text NOT NULL,
  created        bigint NOT NULL,
  doc            text NOT NULL
);
CREATE INDEX factors_entity ON factors (entity_sid, seq);
CREATE INDEX factors_unverified ON factors (status, created);
CREATE TABLE challenges (
  seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid        text NOT NULL UNIQUE,
  entity_sid text NOT NULL,
  factor_sid text NOT NULL,
  status     text NOT NULL,
  expires    bigint NOT NULL,
  doc        text NOT NULL
);
CREATE INDEX challenges_entity ON challenges (entity_sid, seq);
CREATE INDEX challenges_factor ON challenges (factor_sid, seq);
CREATE INDEX challenges_pending ON challenges (status, expires);
-- Counting a factor's pending challenges (the push-bombing cap) must not
-- scan every pending challenge of every user.
CREATE INDEX challenges_factor_pending ON challenges (factor_sid, status, expires);
CREATE TABLE notifications (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid           text NOT NULL UNIQUE,
  challenge_sid text NOT NULL,
  doc           text NOT NULL
);
CREATE INDEX notifications_challenge ON notifications (challenge_sid);
CREATE TABLE access_tokens (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  doc text NOT NULL
);
CREATE TABLE webhooks (
  seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid         text NOT NULL UNIQUE,
  service_sid text NOT NULL,
  doc         text NOT NULL
);
CREATE INDEX webhooks_service ON webhooks (service_sid, seq);
CREATE TABLE outbox (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind         text NOT NULL,
  ref          text NOT NULL,
  target       text NOT NULL,
  params       text NOT NULL,
  expires      bigint,
  state        text NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  next_attempt bigint NOT NULL,
  last_status  integer NOT NULL DEFAULT 0,
  last_error   text NOT NULL DEFAULT '',
  created      bigint NOT NULL,
  updated      bigint NOT NULL,
  UNIQUE (kind, ref)
);
CREATE INDEX outbox_due ON outbox (kind, state, next_attempt);
