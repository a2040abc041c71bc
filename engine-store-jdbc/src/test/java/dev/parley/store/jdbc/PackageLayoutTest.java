package dev.parley.store.jdbc;

import dev.parley.api.ConversationEngine;
import dev.parley.api.internal.EngineProvider;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.Turn;
import dev.parley.core.InMemoryConversationStore;
import dev.parley.testing.ScriptedModel;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.jspecify.annotations.NullMarked;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packages tell who implements what: the SPI holds only what hosts implement, the values the engine hands
 * them live apart, engine-only types stay out of both, and every shipped package is {@code @NullMarked}.
 */
class PackageLayoutTest {

    /** Every class of the shipped modules, by package, read from the jars or class folders on the class path. */
    private static Map<String, List<Class<?>>> shippedClasses() throws Exception {
        Map<String, List<Class<?>>> byPackage = new TreeMap<>();
        for (Class<?> anchor : List.of(ConversationEngine.class, InMemoryConversationStore.class,
                JdbcConversationStore.class, ScriptedModel.class)) {
            for (String name : classNames(anchor)) {
                Class<?> c = Class.forName(name, false, anchor.getClassLoader());
                byPackage.computeIfAbsent(c.getPackageName(), p -> new ArrayList<>()).add(c);
            }
        }
        return byPackage;
    }

    private static List<String> classNames(Class<?> anchor) throws IOException, URISyntaxException {
        Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> entries = new ArrayList<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> files = Files.walk(location)) {
                files.filter(f -> f.toString().endsWith(".class"))
                        .forEach(f -> entries.add(location.relativize(f).toString().replace('\\', '/')));
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                jar.stream().forEach(e -> entries.add(e.getName()));
            }
        }
        return entries.stream()
                .filter(e -> e.startsWith("dev/parley/") && e.endsWith(".class") && !e.endsWith("module-info.class"))
                .map(e -> e.substring(0, e.length() - ".class".length()).replace('/', '.'))
                .toList();
    }

    @Test
    void everyShippedPackageIsNullMarked() throws Exception {
        Map<String, List<Class<?>>> packages = shippedClasses();
        assertThat(packages).containsKeys("dev.parley.api", "dev.parley.api.spi", "dev.parley.api.values",
                "dev.parley.api.internal", "dev.parley.core", "dev.parley.core.internal", "dev.parley.store.jdbc",
                "dev.parley.store.jdbc.internal", "dev.parley.testing");
        for (Map.Entry<String, List<Class<?>>> p : packages.entrySet()) {
            Package pkg = p.getValue().get(0).getPackage();
            assertThat(pkg.isAnnotationPresent(NullMarked.class)).as(p.getKey() + " is @NullMarked").isTrue();
        }
    }

    @Test
    void theSpiHoldsOnlyInterfacesAHostImplementsAndTheValuesLiveApart() throws Exception {
        Map<String, List<Class<?>>> packages = shippedClasses();
        for (Class<?> c : packages.get("dev.parley.api.spi")) {
            if (c.getEnclosingClass() == null && !c.getSimpleName().equals("package-info")) {
                assertThat(c.isInterface()).as(c.getName() + " is an interface a host implements").isTrue();
            }
        }
        assertThat(packages.get("dev.parley.api.spi")).doesNotContain(EngineProvider.class);
        assertThat(ConversationStore.class.getPackageName()).isEqualTo("dev.parley.api.spi");
        assertThat(Turn.class.getPackageName()).isEqualTo("dev.parley.api.values");
        for (Class<?> c : packages.get("dev.parley.api.values")) {
            if (c.getEnclosingClass() == null && !c.getSimpleName().equals("package-info") && !c.isInterface()) {
                assertThat(c.isRecord() || Modifier.isFinal(c.getModifiers()) || c.isEnum())
                        .as(c.getName() + " is an immutable value the engine hands over").isTrue();
            }
        }
    }
}
