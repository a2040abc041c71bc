package dev.parley.opentelemetry;

import io.opentelemetry.api.common.AttributeKey;

/**
 * The attribute keys Parley's spans carry: the GenAI semantic conventions' (checked against the convention's own
 * constants by the tests) and Parley's own, under {@code parley.}. None holds user text except the two content
 * attributes, set only when the host enables content capture.
 */
final class SpanNames {
    static final AttributeKey<String> GEN_AI_OPERATION_NAME = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> GEN_AI_REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<String> GEN_AI_CONVERSATION_ID = AttributeKey.stringKey("gen_ai.conversation.id");
    static final AttributeKey<Long> GEN_AI_USAGE_INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> GEN_AI_USAGE_OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    /** The convention's opt-in content attributes, as JSON strings. */
    static final AttributeKey<String> GEN_AI_INPUT_MESSAGES = AttributeKey.stringKey("gen_ai.input.messages");
    static final AttributeKey<String> GEN_AI_OUTPUT_MESSAGES = AttributeKey.stringKey("gen_ai.output.messages");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final String CHAT = "chat";

    static final AttributeKey<String> CONVERSATION_ID = AttributeKey.stringKey("parley.conversation.id");
    static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("parley.message.id");
    static final AttributeKey<String> WORKSPACE_ID = AttributeKey.stringKey("parley.workspace.id");
    static final AttributeKey<Boolean> STREAMING = AttributeKey.booleanKey("parley.streaming");
    static final AttributeKey<Boolean> REPLAYED = AttributeKey.booleanKey("parley.replayed");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("parley.outcome");
    static final AttributeKey<String> STAGE = AttributeKey.stringKey("parley.stage");
    static final AttributeKey<String> POLICY_OUTCOME = AttributeKey.stringKey("parley.policy.outcome");
    static final AttributeKey<Long> POLICY_FINDINGS = AttributeKey.longKey("parley.policy.findings");
    static final AttributeKey<String> POLICY_RULE = AttributeKey.stringKey("parley.policy.rule");
    static final AttributeKey<String> POLICY_ACTION = AttributeKey.stringKey("parley.policy.action");
    static final AttributeKey<String> POLICY_PHASE = AttributeKey.stringKey("parley.policy.phase");
    static final AttributeKey<String> POLICY_STATUS = AttributeKey.stringKey("parley.policy.status");
    static final AttributeKey<Boolean> CREDITS_METERED = AttributeKey.booleanKey("parley.credits.metered");
    static final AttributeKey<Double> CREDITS_USED = AttributeKey.doubleKey("parley.credits.used");
    static final AttributeKey<String> CREDITS_ACCOUNT = AttributeKey.stringKey("parley.credits.account");

    private SpanNames() {
    }
}
