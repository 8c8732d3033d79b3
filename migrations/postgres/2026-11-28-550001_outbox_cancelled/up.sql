-- A reminder found no longer true when the delivery loop claims it (its deadline met or moved,
-- the case withdrawn, the recipient deactivated or no longer allowed to see the case) is marked
-- `cancelled` with the reason, and never sent.
ALTER TABLE outbox ADD COLUMN cancelled_reason TEXT;
