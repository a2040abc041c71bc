package dev.parley.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a {@link ParleyConfigurationException} at startup into Spring Boot's failure report: what is wrong, and the
 * action to take, instead of a stack trace.
 */
public class ParleyConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<ParleyConfigurationException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ParleyConfigurationException cause) {
        return new FailureAnalysis("Parley's ConversationEngine could not be configured: " + cause.getMessage(),
                cause.action(), cause);
    }
}
