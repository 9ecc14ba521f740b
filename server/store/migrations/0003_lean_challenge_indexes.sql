-- Every create writes each index of challenges, and an answer or an expiry
-- rewrites those keyed by status. Pending challenges are the only ones
-- looked up by due time or counted per factor, so those two indexes hold
-- only pending rows and a challenge leaves them when it is answered. A
-- factor's challenges are listed through its entity's index: an entity
-- has a handful of factors.
DROP INDEX challenges_factor;
DROP INDEX challenges_pending;
DROP INDEX challenges_factor_pending;
CREATE INDEX challenges_due ON challenges (expires) WHERE status = 'pending';
CREATE INDEX challenges_factor_pending ON challenges (factor_sid, expires) WHERE status = 'pending';
