CREATE TABLE secrets (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE services (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sid TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);
CREATE TABLE entities (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  sid         TEXT NOT NULL UNIQUE,
  service_sid TEXT NOT NULL,
  identity    TEXT NOT NULL,
  doc         TEXT NOT NULL,
  UNIQUE (service_sid, identity)
);
CREATE TABLE factors (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  sid            TEXT NOT NULL UNIQUE,
  entity_sid     TEXT NOT NULL,
  credential_sid TEXT NOT NULL UNIQUE,
  factor_type    TEXT NOT NULL,
  status         TEXT NOT NULL,
  created        INTEGER NOT NULL,
  doc            TEXT NOT NULL
);
CREATE INDEX factors_entity ON factors (entity_sid, seq);
CREATE INDEX factors_unverified ON factors (status, created);
CREATE TABLE challenges (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  sid        TEXT NOT NULL UNIQUE,
  entity_sid TEXT NOT NULL,
  factor_sid TEXT NOT NULL,
  status     TEXT NOT NULL,
  expires    INTEGER NOT NULL,
  doc        TEXT NOT NULL
);
CREATE INDEX challenges_entity ON challenges (entity_sid, seq);
CREATE INDEX challenges_factor ON challenges (factor_sid, seq);
CREATE INDEX challenges_pending ON challenges (status, expires);
CREATE TABLE notifications (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  sid           TEXT NOT NULL UNIQUE,
  challenge_sid TEXT NOT NULL,
  doc           TEXT NOT NULL
);
CREATE INDEX notifications_challenge ON notifications (challenge_sid);
CREATE TABLE access_tokens (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  sid TEXT NOT NULL UNIQUE,
  doc TEXT NOT NULL
);
CREATE TABLE webhooks (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  sid         TEXT NOT NULL UNIQUE,
  service_sid TEXT NOT NULL,
  doc         TEXT NOT NULL
);
CREATE INDEX webhooks_service ON webhooks (service_sid, seq);
CREATE TABLE outbox (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind         TEXT NOT NULL,
  ref          TEXT NOT NULL,
  target       TEXT NOT NULL,
  params       TEXT NOT NULL,
  expires      INTEGER,
  state        TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL,
  last_status  INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT NOT NULL DEFAULT '',
  created      INTEGER NOT NULL,
  updated      INTEGER NOT NULL,
  UNIQUE (kind, ref)
);
CREATE INDEX outbox_due ON outbox (kind, state, next_attempt);
