package dev.parley.core;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ConversationStoreContract;

class InMemoryStoreContractTest extends ConversationStoreContract {
    @Override
    protected ConversationStore openStore() {
        return new InMemoryConversationStore();
    }
}
