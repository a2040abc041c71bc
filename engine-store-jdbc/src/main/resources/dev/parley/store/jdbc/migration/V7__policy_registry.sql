-- The policy registry: rules put, changed, disabled and removed while engines run, seen by every engine sharing the
-- database on its next turn. Parameters are kept in their order as "<length>:<name><length>:<value>" pairs one
-- after another (as stop sequences are), so that any character may be in a value; a spec has at most 32
-- parameters of at most 16,384 characters. Phases are names joined by commas. The time budget is kept in
-- nanoseconds, so that it reads back exactly as it was put. A null scope column is "every" at that level.
CREATE TABLE parley_policy (
    id                VARCHAR(64)              NOT NULL,
    kind              VARCHAR(64)              NOT NULL,
    parameters        VARCHAR(1000000)         NOT NULL,
    action            VARCHAR(8)               NOT NULL,
    phases            VARCHAR(32)              NOT NULL,
    fail_mode         VARCHAR(8)               NOT NULL,
    time_budget_nanos BIGINT                   NOT NULL,
    organization_id   VARCHAR(128),
    workspace_id      VARCHAR(128),
    repository_id     VARCHAR(128),
    enabled           BOOLEAN                  NOT NULL,
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_parley_policy PRIMARY KEY (id)
);

-- The registry's version: one row, moved on in the transaction of every change, whose row lock orders concurrent
-- changes. A turn reads it with its conversation and reloads the rules only when it moved.
CREATE TABLE parley_policy_version (
    id      INTEGER NOT NULL,
    version BIGINT  NOT NULL,
    CONSTRAINT pk_parley_policy_version PRIMARY KEY (id),
    CONSTRAINT ck_parley_policy_version_one_row CHECK (id = 1)
);
INSERT INTO parley_policy_version (id, version) VALUES (1, 0);
