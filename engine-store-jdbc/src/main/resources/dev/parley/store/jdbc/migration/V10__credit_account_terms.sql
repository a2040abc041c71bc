-- An account's terms (AccountTerms): its periods, as CreditPeriod's text; what a new period does to the balance
-- (KEEP, RESET, TOP_UP) with the allowance it grants; and its spending limit per period (HARD or SOFT). spent is
-- what turns were charged in the current period (over the account's life without one), kept with the balance under
-- the account's row lock; period_start and period_end bound the current period, null without periods. Existing
-- accounts have no period and no limit; their spending so far is their charges.
ALTER TABLE parley_credit_account ADD COLUMN period VARCHAR(128);
ALTER TABLE parley_credit_account ADD COLUMN renewal VARCHAR(8) DEFAULT 'KEEP' NOT NULL;
ALTER TABLE parley_credit_account ADD COLUMN allowance NUMERIC(30, 9);
ALTER TABLE parley_credit_account ADD COLUMN limit_amount NUMERIC(30, 9);
ALTER TABLE parley_credit_account ADD COLUMN limit_kind VARCHAR(8);
ALTER TABLE parley_credit_account ADD COLUMN spent NUMERIC(30, 9) DEFAULT 0 NOT NULL;
ALTER TABLE parley_credit_account ADD COLUMN period_start TIMESTAMP WITH TIME ZONE;
ALTER TABLE parley_credit_account ADD COLUMN period_end TIMESTAMP WITH TIME ZONE;
UPDATE parley_credit_account SET spent = (SELECT COALESCE(-SUM(l.amount), 0) FROM parley_credit_ledger l
    WHERE l.account_id = parley_credit_account.id AND l.kind = 'CHARGE');
ALTER TABLE parley_credit_account ADD CONSTRAINT ck_parley_credit_account_spent CHECK (spent >= 0);
