package dev.parley.api;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * A credit account has too few credits left for the turn: refused before any model call, nothing charged or
 * stored. The message names the account and the shortfall, never the prompt.
 */
public class BudgetExceededException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String accountId;
    private final BigDecimal shortfall;

    /**
     * @param accountId the account that cannot cover the turn
     * @param shortfall how many more credits it would need, at {@link Credits#SCALE} decimals
     */
    public BudgetExceededException(String accountId, BigDecimal shortfall) {
        super(ErrorCode.BUDGET_EXCEEDED, "budget exceeded for account " + Objects.requireNonNull(accountId, "accountId")
                + ": " + Objects.requireNonNull(shortfall, "shortfall").stripTrailingZeros().toPlainString()
                + " credits short");
        this.accountId = accountId;
        this.shortfall = Credits.amount("shortfall", shortfall);
    }

    /** The account that ran out. */
    public String accountId() {
        return accountId;
    }

    /** How many more credits the account would need for the turn. */
    public BigDecimal shortfall() {
        return shortfall;
    }
}
