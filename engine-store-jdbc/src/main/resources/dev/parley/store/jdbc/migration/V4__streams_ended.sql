-- How many streams released the conversation's lock: a send reads it when it begins and commits only while it is
-- unchanged (and no stream holds the lock), so that a send and a stream never both store turns they ran side by side.
ALTER TABLE parley_conversation ADD COLUMN streams_ended BIGINT DEFAULT 0 NOT NULL;
