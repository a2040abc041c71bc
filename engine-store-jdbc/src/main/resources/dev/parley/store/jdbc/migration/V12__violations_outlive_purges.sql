-- A purge (retention) or an erasure hard-deletes a conversation, its messages and claims, but keeps its policy
-- violations, their excerpts removed: the compliance record outlives the conversation. The violation's key to the
-- conversation therefore becomes a plain column; it stays indexed by ix_parley_violation_conversation.
ALTER TABLE parley_violation DROP CONSTRAINT fk_parley_violation_conversation;
