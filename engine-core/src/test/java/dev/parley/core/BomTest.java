package dev.parley.core;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The BOM lists, at the build's own version, every module of the build that a host can depend on: all but the
 * samples (both modules), the benchmarks and the BOM itself.
 */
class BomTest {
    private static final List<String> NOT_FOR_HOSTS = List.of("samples", "samples-spring-boot", "engine-bench",
            "parley-bom");

    @Test
    void theBomManagesEveryModuleAHostCanUseAtTheBuildsVersion() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        Document parent = parse(root.resolve("pom.xml"));
        Document bom = parse(root.resolve("parley-bom/pom.xml"));

        List<String> forHosts = new ArrayList<>();
        for (String module : texts(parent.getDocumentElement(), "module")) {
            if (!NOT_FOR_HOSTS.contains(module)) {
                forHosts.add(artifactIdOf(root.resolve(module).resolve("pom.xml")));
            }
        }
        List<String> managed = new ArrayList<>();
        NodeList deps = bom.getElementsByTagName("dependency");
        for (int i = 0; i < deps.getLength(); i++) {
            Element d = (Element) deps.item(i);
            assertThat(text(d, "groupId")).isEqualTo("dev.parley");
            assertThat(text(d, "version")).isEqualTo("${project.version}");
            managed.add(text(d, "artifactId"));
        }
        assertThat(managed).containsExactlyInAnyOrderElementsOf(forHosts);
        assertThat(direct(bom.getDocumentElement(), "version"))
                .isEqualTo(direct(parent.getDocumentElement(), "version"));
        assertThat(bom.getElementsByTagName("parent").getLength()).as("the BOM inherits nothing").isZero();
    }

    private static String artifactIdOf(Path pom) throws Exception {
        return direct(parse(pom).getDocumentElement(), "artifactId");
    }

    private static Document parse(Path pom) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        try (var in = Files.newInputStream(pom)) {
            return f.newDocumentBuilder().parse(in);
        }
    }

    private static List<String> texts(Element root, String tag) {
        List<String> out = new ArrayList<>();
        NodeList nodes = root.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent().trim());
        }
        return out;
    }

    private static String text(Element e, String tag) {
        return e.getElementsByTagName(tag).item(0).getTextContent().trim();
    }

    /** The text of a direct child element. */
    private static String direct(Element e, String tag) {
        for (var n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element child && child.getTagName().equals(tag)) {
                return child.getTextContent().trim();
            }
        }
        throw new AssertionError("no <" + tag + "> in " + e.getTagName());
    }
}
