-- The usage ledger keeps one row per conversation, day (UTC), user and model, which sums that day's turns
-- (requests, prompt tokens, tokens in and out, credits), instead of one row per turn. A turn adds to its row in
-- place: the row's keys do not change, so no index is written, where an entry per turn wrote the table and its
-- four indexes on every turn. The organization and the workspace are the conversation's, copied when the row is
-- made, for the reports' indexes. A report sums the rows of its range as it summed the entries, counting
-- requests, so every report reads the same as before.
CREATE TABLE parley_usage_day (
    conversation_id VARCHAR(128)   NOT NULL,
    ${day}          DATE           NOT NULL,
    user_id         VARCHAR(128)   NOT NULL,
    model           VARCHAR(256)   NOT NULL,
    organization_id VARCHAR(128)   NOT NULL,
    workspace_id    VARCHAR(128)   NOT NULL,
    requests        BIGINT         NOT NULL,
    prompt_tokens   BIGINT         NOT NULL,
    tokens_in       BIGINT         NOT NULL,
    tokens_out      BIGINT         NOT NULL,
    credits         NUMERIC(30, 9) NOT NULL,
    CONSTRAINT pk_parley_usage_day PRIMARY KEY (conversation_id, ${day}, user_id, model)
);

INSERT INTO parley_usage_day (conversation_id, ${day}, user_id, model, organization_id, workspace_id, requests,
                              prompt_tokens, tokens_in, tokens_out, credits)
SELECT conversation_id, ${day}, user_id, model, MAX(organization_id), MAX(workspace_id), COUNT(*),
       SUM(prompt_tokens), SUM(tokens_in), SUM(tokens_out), SUM(credits)
FROM parley_usage
GROUP BY conversation_id, ${day}, user_id, model;

DROP TABLE parley_usage;

-- One conversation's report reads the primary key's range; the others an index that leads with the organization
-- and the report's filter, then the day, as the per-turn ledger's did.
CREATE INDEX ix_parley_usage_day ON parley_usage_day (organization_id, ${day});
CREATE INDEX ix_parley_usage_user ON parley_usage_day (organization_id, user_id, ${day});
CREATE INDEX ix_parley_usage_workspace ON parley_usage_day (organization_id, workspace_id, ${day});
