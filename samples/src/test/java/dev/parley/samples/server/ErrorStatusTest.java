package dev.parley.samples.server;

import dev.parley.api.ErrorCode;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ErrorStatusTest {

    @Test
    void everyEngineErrorCodeHasItsDocumentedStatus() {
        Map<ErrorCode, Integer> documented = new EnumMap<>(ErrorCode.class);
        documented.put(ErrorCode.NOT_FOUND, 404);
        documented.put(ErrorCode.FORBIDDEN, 403);
        documented.put(ErrorCode.INVALID_REQUEST, 400);
        documented.put(ErrorCode.CONVERSATION_LOCKED, 409);
        documented.put(ErrorCode.POLICY_BLOCKED, 422);
        documented.put(ErrorCode.BUDGET_EXCEEDED, 402);
        documented.put(ErrorCode.RATE_LIMITED, 429);
        documented.put(ErrorCode.MODEL_UNAVAILABLE, 502);
        documented.put(ErrorCode.STORE_FAILURE, 503);

        assertThat(documented.keySet()).as("a new engine code needs a status").containsExactly(ErrorCode.values());
        documented.forEach((code, status) -> assertThat(ErrorStatus.of(code)).as(code.name()).isEqualTo(status));
    }
}
