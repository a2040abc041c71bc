package dev.parley.api;

import dev.parley.api.internal.EngineProvider;

import java.util.Iterator;
import java.util.ServiceLoader;

/**
 * Finds the engine implementation through {@link ServiceLoader} on first use (never at class load) and keeps it.
 * When none is on the class path every call fails with the same {@link IllegalStateException} naming the missing
 * module (a failure is not cached in a class initializer, which would turn it into
 * {@code ExceptionInInitializerError} and then {@code NoClassDefFoundError}).
 */
final class EngineProviders {
    private static volatile EngineProvider provider;

    private EngineProviders() {
    }

    static EngineProvider find() {
        EngineProvider found = provider;
        if (found == null) {
            synchronized (EngineProviders.class) {
                found = provider;
                if (found == null) {
                    found = load();
                    provider = found;
                }
            }
        }
        return found;
    }

    private static EngineProvider load() {
        Iterator<EngineProvider> it = ServiceLoader.load(EngineProvider.class, EngineProviders.class.getClassLoader()).iterator();
        if (!it.hasNext()) {
            throw new IllegalStateException("no Parley engine implementation on the class path: add dev.parley:engine-core");
        }
        return it.next();
    }
}
