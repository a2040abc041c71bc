package dev.parley.api;

import java.util.Objects;

/** The credit account has too few credits left for the turn. */
public class BudgetExceededException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String accountId;

    public BudgetExceededException(String accountId, String reason) {
        super(ErrorCode.BUDGET_EXCEEDED, "budget exceeded for " + Objects.requireNonNull(accountId, "accountId") + ": " + reason);
        this.accountId = accountId;
    }

    /** The account that ran out. */
    public String accountId() {
        return accountId;
    }
}
