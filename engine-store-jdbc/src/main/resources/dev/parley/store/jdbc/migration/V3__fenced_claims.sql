-- Claims fenced by a token, with a lease the running turn renews, and the prompt's fingerprint so that an id
-- reused for a different prompt is refused. Pending claims left by an older version expire at once.
ALTER TABLE parley_turn ADD COLUMN claim_token VARCHAR(64);
ALTER TABLE parley_turn ADD COLUMN fingerprint VARCHAR(64);
ALTER TABLE parley_turn ADD COLUMN expires_at TIMESTAMP WITH TIME ZONE;
UPDATE parley_turn SET expires_at = claimed_at WHERE status = 'PENDING';
