-- A variant of Parley's schema for PostgreSQL, run by the tests after the production migrations (see
-- PartitionedPostgres): every table keyed by conversation is declared PARTITION BY HASH of its conversation id, in 8
-- partitions, as a distributed PostgreSQL (Citus, YugabyteDB, CockroachDB) would shard it by that column. The
-- production migrations are unchanged; the store's own Flyway run ignores this version, which is newer than any it
-- has (Flyway's default "*:future"). The test suites that run on this schema prove that the engine's statements
-- and constraints hold when each of these tables is split by conversation; PartitionPruningTest proves that every
-- statement of a turn reads one partition of each.
--
-- Every key of these tables already leads with the conversation id, except two that PostgreSQL requires to include
-- the partition column: parley_event's and parley_violation's, keyed by their own id alone, become
-- (conversation_id, id). Their ids come from the engine's id source and are never looked up without their
-- conversation, so the uniqueness the engine relies on is unchanged; the database no longer refuses the same event
-- or violation id in two conversations.
--
-- Each table is rebuilt with the columns the production migrations gave it (LIKE, so a later migration's columns
-- are kept), its rows copied, and its keys, foreign keys and indexes declared again under their own names.

CREATE TABLE parley_conversation_new (LIKE parley_conversation INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (id);
CREATE TABLE parley_message_new (LIKE parley_message INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (conversation_id);
CREATE TABLE parley_turn_new (LIKE parley_turn INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (conversation_id);
CREATE TABLE parley_event_new (LIKE parley_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY)
    PARTITION BY HASH (conversation_id);
CREATE TABLE parley_stream_lock_new (LIKE parley_stream_lock INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (conversation_id);
CREATE TABLE parley_violation_new (LIKE parley_violation INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (conversation_id);
CREATE TABLE parley_usage_day_new (LIKE parley_usage_day INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY HASH (conversation_id);

-- The partitions: <table>_p0 .. <table>_p7. The same modulus and the same column type (VARCHAR(128)) on every table,
-- so that a conversation's row and all its rows in the other tables are in the partitions of the same remainder.
DO $$
DECLARE
    t TEXT;
    r INTEGER;
BEGIN
    FOREACH t IN ARRAY ARRAY['parley_conversation', 'parley_message', 'parley_turn', 'parley_event',
                             'parley_stream_lock', 'parley_violation', 'parley_usage_day'] LOOP
        FOR r IN 0..7 LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 8, REMAINDER %s)',
                           t || '_p' || r, t || '_new', r);
        END LOOP;
    END LOOP;
END
$$;

INSERT INTO parley_conversation_new SELECT * FROM parley_conversation;
INSERT INTO parley_message_new SELECT * FROM parley_message;
INSERT INTO parley_turn_new SELECT * FROM parley_turn;
INSERT INTO parley_event_new SELECT * FROM parley_event;
INSERT INTO parley_stream_lock_new SELECT * FROM parley_stream_lock;
INSERT INTO parley_violation_new SELECT * FROM parley_violation;
INSERT INTO parley_usage_day_new SELECT * FROM parley_usage_day;
SELECT setval(pg_get_serial_sequence('parley_event_new', 'ordinal'),
              COALESCE((SELECT MAX(ordinal) FROM parley_event_new), 0) + 1, FALSE);

DROP TABLE parley_usage_day, parley_violation, parley_stream_lock, parley_event, parley_turn, parley_message,
    parley_conversation;
ALTER TABLE parley_conversation_new RENAME TO parley_conversation;
ALTER TABLE parley_message_new RENAME TO parley_message;
ALTER TABLE parley_turn_new RENAME TO parley_turn;
ALTER TABLE parley_event_new RENAME TO parley_event;
ALTER TABLE parley_stream_lock_new RENAME TO parley_stream_lock;
ALTER TABLE parley_violation_new RENAME TO parley_violation;
ALTER TABLE parley_usage_day_new RENAME TO parley_usage_day;

-- Keys: as in the production schema, each includes the partition column.
ALTER TABLE parley_conversation ADD CONSTRAINT pk_parley_conversation PRIMARY KEY (id);
ALTER TABLE parley_message ADD CONSTRAINT pk_parley_message PRIMARY KEY (conversation_id, seq);
ALTER TABLE parley_message ADD CONSTRAINT uq_parley_message_id UNIQUE (conversation_id, id);
ALTER TABLE parley_turn ADD CONSTRAINT pk_parley_turn PRIMARY KEY (conversation_id, prompt_id);
ALTER TABLE parley_stream_lock ADD CONSTRAINT pk_parley_stream_lock PRIMARY KEY (conversation_id);
ALTER TABLE parley_usage_day ADD CONSTRAINT pk_parley_usage_day PRIMARY KEY (conversation_id, ${day}, user_id, model);
-- Keys extended by the partition column: (id) in production.
ALTER TABLE parley_event ADD CONSTRAINT pk_parley_event PRIMARY KEY (conversation_id, id);
ALTER TABLE parley_violation ADD CONSTRAINT pk_parley_violation PRIMARY KEY (conversation_id, id);

-- Foreign keys to the conversation, as in production (parley_event, parley_usage_day and, since V12,
-- parley_violation have none there either).
ALTER TABLE parley_message ADD CONSTRAINT fk_parley_message_conversation
    FOREIGN KEY (conversation_id) REFERENCES parley_conversation (id);
ALTER TABLE parley_turn ADD CONSTRAINT fk_parley_turn_conversation
    FOREIGN KEY (conversation_id) REFERENCES parley_conversation (id);
ALTER TABLE parley_stream_lock ADD CONSTRAINT fk_parley_stream_lock_conversation
    FOREIGN KEY (conversation_id) REFERENCES parley_conversation (id);

-- The production indexes, each now one index per partition. The lists they serve (conversations of an organization,
-- workspace, owner or repository; violations of a workspace; usage reports of an organization) compare no conversation
-- id, so they read every partition's index and merge the pages: the statements that cross conversations.
CREATE INDEX ix_parley_conversation_org
    ON parley_conversation (organization_id, deleted_at, created_at DESC, id DESC);
CREATE INDEX ix_parley_conversation_workspace
    ON parley_conversation (organization_id, workspace_id, deleted_at, created_at DESC, id DESC);
CREATE INDEX ix_parley_conversation_owner
    ON parley_conversation (organization_id, owner_id, deleted_at, created_at DESC, id DESC);
CREATE INDEX ix_parley_conversation_repository
    ON parley_conversation (organization_id, repository_id, deleted_at, created_at DESC, id DESC);
CREATE INDEX ix_parley_conversation_workspace_owner
    ON parley_conversation (organization_id, workspace_id, owner_id, deleted_at, created_at DESC, id DESC);
CREATE INDEX ix_parley_conversation_repository_owner
    ON parley_conversation (organization_id, repository_id, owner_id, deleted_at, created_at DESC, id DESC);
CREATE INDEX ix_parley_event_conversation ON parley_event (conversation_id, ordinal);
CREATE INDEX ix_parley_violation_conversation
    ON parley_violation (organization_id, workspace_id, conversation_id, occurred_at DESC, id DESC);
CREATE INDEX ix_parley_violation_workspace
    ON parley_violation (organization_id, workspace_id, occurred_at DESC, id DESC);
CREATE INDEX ix_parley_usage_day ON parley_usage_day (organization_id, ${day});
CREATE INDEX ix_parley_usage_user ON parley_usage_day (organization_id, user_id, ${day});
CREATE INDEX ix_parley_usage_workspace ON parley_usage_day (organization_id, workspace_id, ${day});
