package dev.parley.api.internal;

import dev.parley.api.ConversationEngine;
import dev.parley.api.EngineConfig;


/**
 * The engine implementation, found with {@link java.util.ServiceLoader} when the first engine or default
 * pipeline is built. engine-core provides it; hosts do not implement it.
 */
public interface EngineProvider {

    /** A new engine for the settings. */
    ConversationEngine create(EngineConfig config);

    /** New instances of the default stages, outermost first, with the named positions between them. */
    dev.parley.api.PromptPipeline defaultPipeline();
}
