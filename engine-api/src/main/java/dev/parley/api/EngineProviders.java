package dev.parley.api;

import dev.parley.api.spi.EngineProvider;

import java.util.Iterator;
import java.util.ServiceLoader;

/** Finds the engine implementation through {@link ServiceLoader}, once, on first use (never at class load). */
final class EngineProviders {
    private EngineProviders() {
    }

    private static final class Holder {
        static final EngineProvider PROVIDER = load();
    }

    static EngineProvider find() {
        return Holder.PROVIDER;
    }

    private static EngineProvider load() {
        Iterator<EngineProvider> it = ServiceLoader.load(EngineProvider.class, EngineProviders.class.getClassLoader()).iterator();
        if (!it.hasNext()) {
            throw new IllegalStateException("no Parley engine implementation on the class path: add dev.parley:engine-core");
        }
        return it.next();
    }
}
