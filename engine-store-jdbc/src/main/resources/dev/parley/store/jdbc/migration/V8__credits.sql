-- Credits: model prices, accounts with their ledgers, and the holds turns reserve before their model call. Every
-- amount is an exact decimal: prices at 6 decimals (ModelPrice.MAX_DECIMALS), credits at 9 (Credits.SCALE).

-- The price each model's turns are charged at, from the time it was put; a hold keeps the price it was reserved at.
CREATE TABLE parley_credit_price (
    model               VARCHAR(256)             NOT NULL,
    per_thousand_input  NUMERIC(19, 6)           NOT NULL,
    per_thousand_output NUMERIC(19, 6)           NOT NULL,
    per_request         NUMERIC(19, 6)           NOT NULL,
    updated_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_parley_credit_price PRIMARY KEY (model)
);

-- One account per owner: an organization (owner_id is its own id), a workspace, a repository or a user of an
-- organization. The balance is the sum of the account's ledger and never goes below zero; every change of it
-- locks the row first, so that changes from every engine on the database are one after another.
CREATE TABLE parley_credit_account (
    id              VARCHAR(128)             NOT NULL,
    organization_id VARCHAR(128)             NOT NULL,
    owner_kind      VARCHAR(16)              NOT NULL,
    owner_id        VARCHAR(128)             NOT NULL,
    balance         NUMERIC(30, 9)           NOT NULL,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_parley_credit_account PRIMARY KEY (id),
    CONSTRAINT uq_parley_credit_account_owner UNIQUE (organization_id, owner_kind, owner_id),
    CONSTRAINT ck_parley_credit_account_balance CHECK (balance >= 0)
);

-- Every change of a balance, never rewritten: top-ups, adjustments, and turns' charges, which keep the turn, the
-- model, the price applied and the tokens charged for, so that a later change of price rewrites no history.
CREATE TABLE parley_credit_ledger (
    id                  VARCHAR(128)             NOT NULL,
    account_id          VARCHAR(128)             NOT NULL,
    kind                VARCHAR(16)              NOT NULL,
    amount              NUMERIC(30, 9)           NOT NULL,
    balance_after       NUMERIC(30, 9)           NOT NULL,
    reason              VARCHAR(256)             NOT NULL,
    at                  TIMESTAMP WITH TIME ZONE NOT NULL,
    conversation_id     VARCHAR(128),
    message_id          VARCHAR(128),
    model               VARCHAR(256),
    per_thousand_input  NUMERIC(19, 6),
    per_thousand_output NUMERIC(19, 6),
    per_request         NUMERIC(19, 6),
    tokens_in           BIGINT                   NOT NULL,
    tokens_out          BIGINT                   NOT NULL,
    CONSTRAINT pk_parley_credit_ledger PRIMARY KEY (id)
);

-- An account's ledger pages, newest first, ties by id: one range of this index serves the page and its count.
-- (H2 makes an index of its own for the foreign key, on account_id alone, and would prefer it for the page and
-- sort the account's whole ledger: the page names this index on H2.)
CREATE INDEX ix_parley_credit_ledger_account ON parley_credit_ledger (account_id, at DESC, id DESC);
ALTER TABLE parley_credit_ledger ADD CONSTRAINT fk_parley_credit_ledger_account
    FOREIGN KEY (account_id) REFERENCES parley_credit_account (id);

-- What live turns reserve: one row per hold and account, the same amount on each. A hold counts against its
-- account while expires_at is not before the time asked about; a turn's commit deletes its rows, a turn that stores
-- nothing releases them, and a reserve on an account deletes its rows that lapsed.
CREATE TABLE parley_credit_hold (
    hold_id         VARCHAR(128)             NOT NULL,
    account_id      VARCHAR(128)             NOT NULL,
    amount          NUMERIC(30, 9)           NOT NULL,
    expires_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    conversation_id VARCHAR(128)             NOT NULL,
    prompt_id       VARCHAR(128)             NOT NULL,
    CONSTRAINT pk_parley_credit_hold PRIMARY KEY (hold_id, account_id)
);

-- The live holds of an account (their sum), and its lapsed ones (deleted), each one range of this index.
CREATE INDEX ix_parley_credit_hold_account ON parley_credit_hold (account_id, expires_at);
ALTER TABLE parley_credit_hold ADD CONSTRAINT fk_parley_credit_hold_account
    FOREIGN KEY (account_id) REFERENCES parley_credit_account (id);

-- What a reply's turn was charged, so that a replay returns it: null credits_metered is an unmetered turn (and
-- every user message); a metered reply keeps the cost, the tightest balance left, and that account's id.
ALTER TABLE parley_message ADD COLUMN credits_metered BOOLEAN;
ALTER TABLE parley_message ADD COLUMN credits_used NUMERIC(30, 9);
ALTER TABLE parley_message ADD COLUMN credits_remaining NUMERIC(30, 9);
ALTER TABLE parley_message ADD COLUMN credits_account VARCHAR(128);
