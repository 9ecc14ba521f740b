-- Counting a factor's pending challenges (the push-bombing cap) must not
-- scan every pending challenge of every user.
CREATE INDEX challenges_factor_pending ON challenges (factor_sid, status, expires);
