-- Governance. A turn a policy blocked settles its message id as BLOCKED (beside PENDING and COMPLETE), keeping the
-- rule, phase and fail-closed flag, so that a replay of the id is refused the same way without a model call. A
-- BLOCKED row is never taken over, renewed or released: it has no token and no lease.
ALTER TABLE parley_turn ADD COLUMN block_rule_id VARCHAR(64);
ALTER TABLE parley_turn ADD COLUMN block_phase VARCHAR(8);
ALTER TABLE parley_turn ADD COLUMN block_fail_closed BOOLEAN;

-- What policies found, kept for compliance: stored in the turn's own transaction, never changed, and kept when
-- the conversation is soft-deleted. The excerpt masks what was matched; the engine limits it to 160 characters.
CREATE TABLE parley_violation (
    id              VARCHAR(128)             NOT NULL,
    conversation_id VARCHAR(128)             NOT NULL,
    organization_id VARCHAR(128)             NOT NULL,
    workspace_id    VARCHAR(128)             NOT NULL,
    message_id      VARCHAR(128)             NOT NULL,
    rule_id         VARCHAR(64)              NOT NULL,
    category        VARCHAR(32)              NOT NULL,
    action          VARCHAR(8)               NOT NULL,
    phase           VARCHAR(8)               NOT NULL,
    occurred_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    excerpt         VARCHAR(160)             NOT NULL,
    CONSTRAINT pk_parley_violation PRIMARY KEY (id),
    CONSTRAINT fk_parley_violation_conversation FOREIGN KEY (conversation_id) REFERENCES parley_conversation (id)
);

-- Violation pages, newest first (ties by id), of one conversation and of a whole workspace. As for conversation
-- pages, each index leads with the columns the list compares for equality, then the page order, so one range of
-- one index serves both the page and its count. The conversation's list names its organization and workspace
-- too: a conversation id of another workspace lists nothing.
CREATE INDEX ix_parley_violation_conversation
    ON parley_violation (organization_id, workspace_id, conversation_id, occurred_at DESC, id DESC);
CREATE INDEX ix_parley_violation_workspace
    ON parley_violation (organization_id, workspace_id, occurred_at DESC, id DESC);
