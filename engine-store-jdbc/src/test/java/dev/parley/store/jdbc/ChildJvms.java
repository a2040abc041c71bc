package dev.parley.store.jdbc;

/** What the child JVMs of the kill tests share. */
final class ChildJvms {
    private ChildJvms() {
    }

    /**
     * Ends this JVM when the test JVM that started it is gone: the parent never writes to the child's standard
     * input, so its end means the pipe closed. Without it, a child whose test run was stopped keeps sending turns
     * for ever, on a machine whose next runs it slows.
     */
    static void exitWithParent() {
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the parent writes nothing; only the end of the stream matters
                }
            } catch (java.io.IOException e) {
                // a broken pipe is the parent's end too
            }
            Runtime.getRuntime().halt(3);
        }, "exit-with-parent");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
