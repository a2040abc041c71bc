-- Summaries written by compaction: each covers a conversation's messages from_seq..to_seq and stands in for them
-- in a turn's context; the messages stay. The unique key lets a range be summarized once, whichever engine wins.
-- No foreign key to parley_conversation: a summary is only stored while its conversation is live (checked in its
-- transaction), and a purge deletes a conversation's summaries and claim with the rest of it.
CREATE TABLE parley_summary (
    id                VARCHAR(128)             NOT NULL,
    conversation_id   VARCHAR(128)             NOT NULL,
    from_seq          BIGINT                   NOT NULL,
    to_seq            BIGINT                   NOT NULL,
    body              CHARACTER VARYING        NOT NULL,
    tokens            INTEGER                  NOT NULL,
    model             VARCHAR(256)             NOT NULL,
    usage_in          BIGINT                   NOT NULL,
    usage_out         BIGINT                   NOT NULL,
    credits_metered   BOOLEAN                  NOT NULL,
    credits_used      NUMERIC(30, 9),
    credits_remaining NUMERIC(30, 9),
    credits_account   VARCHAR(128),
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_parley_summary PRIMARY KEY (id),
    CONSTRAINT uq_parley_summary_range UNIQUE (conversation_id, to_seq)
);

-- One row per conversation that compaction has claimed: the claim (a lease, by the database's clock, as a message
-- id's claim), and after a failure the time before which it is not claimed again.
CREATE TABLE parley_compaction (
    conversation_id VARCHAR(128)             NOT NULL,
    claim_token     VARCHAR(128),
    expires_at      TIMESTAMP WITH TIME ZONE,
    retry_at        TIMESTAMP WITH TIME ZONE,
    failures        INTEGER                  NOT NULL,
    CONSTRAINT pk_parley_compaction PRIMARY KEY (conversation_id)
);

-- Counts the changes to a conversation's summaries (a summary stored, or summaries deleted by an erasure), so that
-- a turn's first read of the conversation row tells an engine whether the latest summary it keeps is still the
-- latest, and whether there is one at all, without a statement of its own.
ALTER TABLE parley_conversation ADD COLUMN summaries_version BIGINT DEFAULT 0 NOT NULL;
