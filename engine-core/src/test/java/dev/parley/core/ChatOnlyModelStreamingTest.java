package dev.parley.core;

/** {@link StreamingTest} with models that only chat: each stream is the whole answer in one delta. */
class ChatOnlyModelStreamingTest extends StreamingTest {
    @Override
    protected boolean modelStreams() {
        return false;
    }
}
