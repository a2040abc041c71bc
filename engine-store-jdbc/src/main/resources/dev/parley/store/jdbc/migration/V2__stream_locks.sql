-- One row per conversation with an active (or abandoned) stream. The primary key makes the lock exclusive
-- across every engine sharing the database; expires_at lets another engine take over a dead holder's lock.
CREATE TABLE parley_stream_lock (
    conversation_id  VARCHAR(128)             NOT NULL,
    holder           VARCHAR(128)             NOT NULL,
    expires_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    cancel_requested BOOLEAN                  NOT NULL,
    CONSTRAINT pk_parley_stream_lock PRIMARY KEY (conversation_id),
    CONSTRAINT fk_parley_stream_lock_conversation FOREIGN KEY (conversation_id) REFERENCES parley_conversation (id)
);
