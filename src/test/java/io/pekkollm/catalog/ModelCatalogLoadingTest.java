package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.api.LlmClient;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCatalogLoadingTest {
  private static final Path SOURCE_DIR = Path.of("config/models");

  @TempDir
  Path tmp;

  private static Set<String> sourceFiles() throws IOException {
    try (Stream<Path> s = Files.list(SOURCE_DIR)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  @Test
  void bundledCatalogHasEveryProviderFileOfConfigModels() throws IOException {
    Set<String> expected = new TreeSet<>();
    sourceFiles().forEach(n -> expected.add(n.substring(0, n.length() - 4)));
    assertEquals(expected, ModelCatalog.bundled().providers());
    assertTrue(expected.containsAll(Set.of("openai", "anthropic", "mock", "groq", "ollama")), expected.toString());
  }

  @Test
  void buildIndexListsExactlyTheFilesOfConfigModels() throws IOException {
    assertEquals(List.copyOf(sourceFiles()), ModelCatalog.bundledFileNames(getClass().getClassLoader()));
  }

  @Test
  void readsEveryFieldOfAnEntry() {
    ModelEntry e = ModelCatalog.bundled().find("openai/gpt-4o-mini").orElseThrow();
    assertEquals("openai", e.provider());
    assertEquals("gpt-4o-mini", e.model());
    assertEquals("openai/gpt-4o-mini", e.id());
    assertEquals("chat", e.mode().orElseThrow());
    assertEquals(128000, e.contextWindow().getAsInt());
    assertEquals(16384, e.maxOutputTokens().getAsInt());
    assertEquals(new Pricing(new BigDecimal("0.15"), new BigDecimal("0.6"), new BigDecimal("0.075"), null, null),
        e.pricing());
    assertEquals(EnumSet.of(Capability.JSON_SCHEMA, Capability.PARALLEL_TOOLS, Capability.PDF,
        Capability.PROMPT_CACHING, Capability.STREAMING, Capability.SYSTEM_MESSAGES, Capability.TOOLS,
        Capability.VISION), e.capabilities());
    assertEquals(List.of("gpt-4o-mini-2024-07-18"), e.aliases());
    assertTrue(e.deprecationDate().isEmpty());

    ModelEntry haiku = ModelCatalog.bundled().find("anthropic/claude-3-5-haiku-20241022").orElseThrow();
    assertEquals(LocalDate.of(2025, 10, 1), haiku.deprecationDate().orElseThrow());
    assertEquals(0, new BigDecimal("1").compareTo(haiku.pricing().cacheWrite()));
    assertEquals(List.of("groq/llama-3.1-8b-instant"),
        ModelCatalog.bundled().find("groq/llama-3.1-8b-instant").orElseThrow().litellmKeys());

    CatalogSource src = ModelCatalog.bundled().source("openai").orElseThrow();
    assertEquals("2026-02-20", src.sourceDate());
    assertTrue(src.source().startsWith("BerriAI/litellm@"), src.source());
    assertEquals("classpath:config/models/openai.yml", src.file());
  }

  @Test
  void modelsWithoutKnownValuesStayUnknown() {
    // ollama/llama3.2 comes from a hand-maintained override that gives no output limit and no price.
    ModelEntry e = ModelCatalog.bundled().find("ollama/llama3.2").orElseThrow();
    assertEquals(131072, e.contextWindow().getAsInt());
    assertTrue(e.maxOutputTokens().isEmpty());
    assertTrue(e.pricing().isUnknown());
    assertTrue(e.pricing().blended().isEmpty());
  }

  // ------------------------------------------------------------------ enumerating without the index

  @Test
  void listsTheResourceDirectoryWhenTheIndexIsMissing() throws IOException {
    Path root = tmp.resolve("classes");
    Files.createDirectories(root.resolve("config/models"));
    Files.copy(SOURCE_DIR.resolve("mock.yml"), root.resolve("config/models/mock.yml"));
    Files.copy(SOURCE_DIR.resolve("groq.yml"), root.resolve("config/models/groq.yml"));
    Files.writeString(root.resolve("config/models/notes.txt"), "not a catalog file");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {root.toUri().toURL()}, null)) {
      ModelCatalog c = ModelCatalog.loadBundled(loader);
      assertEquals(Set.of("groq", "mock"), c.providers());
      assertTrue(c.find("mock/echo").isPresent());
    }
  }

  @Test
  void listsAJarWhenTheIndexIsMissing() throws IOException {
    Path jar = tmp.resolve("catalog.jar");
    writeJar(jar, true, List.of("mock.yml", "deepseek.yml"), null);
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertEquals(Set.of("deepseek", "mock"), ModelCatalog.loadBundled(loader).providers());
    }
  }

  @Test
  void readsTheIndexFromAJarWithoutDirectoryEntries() throws IOException {
    // Some jar tools write no directory entries, which makes a resource directory impossible to list.
    Path jar = tmp.resolve("flat.jar");
    writeJar(jar, false, List.of("mock.yml", "xai.yml"), "mock.yml\nxai.yml\n");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      ModelCatalog c = ModelCatalog.loadBundled(loader);
      assertEquals(Set.of("mock", "xai"), c.providers());
      assertEquals(ModelCatalog.bundled().models("xai"), c.models("xai"));
    }
  }

  @Test
  void anIndexNamingAMissingFileFailsLoading() throws IOException {
    Path jar = tmp.resolve("broken.jar");
    writeJar(jar, false, List.of("mock.yml"), "mock.yml\nopenai.yml\n");
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      CatalogLoadException e = assertThrows(CatalogLoadException.class, () -> ModelCatalog.loadBundled(loader));
      assertEquals("classpath:config/models/openai.yml", e.file());
    }
  }

  @Test
  void noCatalogOnTheClassPathGivesAnEmptyCatalog() throws IOException {
    try (URLClassLoader loader = new URLClassLoader(new URL[0], null)) {
      ModelCatalog c = ModelCatalog.loadBundled(loader);
      assertTrue(c.models().isEmpty());
      assertTrue(c.find("openai/gpt-4o").isEmpty());
    }
  }

  private static void writeJar(Path jar, boolean dirEntries, List<String> files, String index) throws IOException {
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
      if (dirEntries) {
        j.putNextEntry(new JarEntry("config/"));
        j.closeEntry();
        j.putNextEntry(new JarEntry("config/models/"));
        j.closeEntry();
      }
      for (String f : files) {
        j.putNextEntry(new JarEntry("config/models/" + f));
        j.write(Files.readAllBytes(SOURCE_DIR.resolve(f)));
        j.closeEntry();
      }
      if (index != null) {
        j.putNextEntry(new JarEntry("config/models/index.txt"));
        j.write(index.getBytes(StandardCharsets.UTF_8));
        j.closeEntry();
      }
    }
  }

  // ------------------------------------------------------------------ external directory

  @Test
  void externalDirectoryReplacesModelsWholeAndAddsModelsAndProviders() throws IOException {
    Files.writeString(tmp.resolve("openai.yml"), """
        source: hand-written for a test
        provider: openai
        models:
          gpt-4o-mini:            # replaces the bundled entry as a whole
            mode: chat
            context_window: 64000
            pricing:
              input: 0.1
              output: 0.4
          gpt-brand-new:
            mode: chat
            context_window: 1000000
            capabilities: [streaming, tools]
        """);
    Files.writeString(tmp.resolve("myserver.yaml"), """
        provider: myserver
        models:
          qwen2.5-coder:
            context_window: 32768
            capabilities: [streaming, telepathy]
            aliases: [coder]
        """);
    Files.writeString(tmp.resolve("README.md"), "ignored: not a .yml file");
    Files.createDirectories(tmp.resolve("overrides"));
    Files.writeString(tmp.resolve("overrides/openai.yml"), "not: [read");

    ModelCatalog c = ModelCatalog.load(new CatalogSettings(tmp, true));
    ModelEntry mini = c.find("openai/gpt-4o-mini").orElseThrow();
    assertEquals(64000, mini.contextWindow().getAsInt());
    assertTrue(mini.maxOutputTokens().isEmpty(), "the external entry replaces the bundled one as a whole");
    assertTrue(mini.capabilities().isEmpty());
    assertEquals(new Pricing(new BigDecimal("0.1"), new BigDecimal("0.4"), null, null, null), mini.pricing());
    assertEquals(1000000, c.find("openai/gpt-brand-new").orElseThrow().contextWindow().getAsInt());
    assertEquals(ModelCatalog.bundled().find("openai/gpt-4o").orElseThrow(), c.find("openai/gpt-4o").orElseThrow(),
        "models the external file does not name stay as bundled");
    assertEquals(tmp.resolve("openai.yml").toString(), c.source("openai").orElseThrow().file());

    ModelEntry coder = c.find("myserver/coder").orElseThrow();
    assertEquals("myserver/qwen2.5-coder", coder.id(), "an alias finds its model");
    assertEquals(Set.of("telepathy"), coder.otherCapabilities(), "unknown capabilities are kept");
    assertTrue(coder.hasCapability("telepathy"));
    assertTrue(coder.has(Capability.STREAMING));
    assertEquals(List.of("streaming", "telepathy"), coder.capabilityNames());
    assertTrue(ModelCatalog.bundled().find("openai/gpt-brand-new").isEmpty(), "the bundled catalog is untouched");
  }

  @Test
  void modelsDirComesFromConfiguration() throws IOException {
    Files.writeString(tmp.resolve("mock.yml"), "provider: mock\nmodels:\n  echo-large:\n    context_window: 10\n");
    CatalogSettings s = CatalogSettings.create(ConfigFactory.parseString(
        "pekko-llm.catalog { models-dir = \"" + tmp.toString().replace("\\", "\\\\") + "\", context-check = off }"));
    assertEquals(tmp, s.modelsDir());
    assertFalse(s.contextCheck());
    assertTrue(ModelCatalog.load(s).find("mock/echo-large").isPresent());
    CatalogSettings defaults = CatalogSettings.create(ConfigFactory.defaultReference());
    assertTrue(defaults.contextCheck());
  }

  // ------------------------------------------------------------------ errors name file, line and problem

  private CatalogLoadException loadFails(String file, String yaml) throws IOException {
    Files.writeString(tmp.resolve(file), yaml);
    return assertThrows(CatalogLoadException.class, () -> ModelCatalog.bundled().withDirectory(tmp));
  }

  @Test
  void malformedYamlNamesFileAndLine() throws IOException {
    CatalogLoadException e = loadFails("openai.yml", """
        provider: openai
        models:
          gpt-x:
            capabilities: [tools, streaming
            mode: chat
        """);
    assertEquals(tmp.resolve("openai.yml").toString(), e.file());
    // The list opened on line 4 is found unterminated where line 5 starts a mapping.
    assertEquals(5, e.line(), e.getMessage());
    assertTrue(e.getMessage().startsWith(tmp.resolve("openai.yml") + ":5:9: malformed YAML: expected ',' or ']'"),
        e.getMessage());
    assertTrue(e.problem().endsWith("(while parsing a flow sequence that starts at line 4)"), e.problem());
  }

  @Test
  void badIndentationNamesItsLine() throws IOException {
    CatalogLoadException e = loadFails("groq.yml", """
        provider: groq
        models:
          llama:
            mode: chat
           context_window: 8192
        """);
    assertEquals(5, e.line(), e.getMessage());
  }

  @Test
  void wrongTypeNamesFieldLineAndValue() throws IOException {
    CatalogLoadException e = loadFails("openai.yml", """
        provider: openai
        models:
          gpt-x:
            mode: chat
            context_window: "abc"
        """);
    assertEquals(5, e.line());
    assertEquals(21, e.column());
    assertEquals("models.gpt-x.context_window must be a positive integer (tokens), not the string \"abc\"",
        e.problem());
    assertEquals(tmp.resolve("openai.yml") + ":5:21: " + e.problem(), e.getMessage());
  }

  @Test
  void everyKindOfBadValueIsReportedAtItsLine() throws IOException {
    record Bad(String yaml, int line, String problemStart) {}
    List<Bad> cases = List.of(
        new Bad("provider: openai\nmodels:\n  m:\n    context_window: 1.5\n", 4,
            "models.m.context_window must be a positive integer"),
        new Bad("provider: openai\nmodels:\n  m:\n    context_window: 0\n", 4,
            "models.m.context_window must be a positive integer of at most"),
        new Bad("provider: openai\nmodels:\n  m:\n    max_output_tokens: 99999999999\n", 4,
            "models.m.max_output_tokens must be a positive integer of at most"),
        new Bad("provider: openai\nmodels:\n  m:\n    pricing:\n      input: cheap\n", 5,
            "models.m.pricing.input must be a number"),
        new Bad("provider: openai\nmodels:\n  m:\n    pricing:\n      input: -1\n", 5,
            "models.m.pricing.input must not be negative"),
        new Bad("provider: openai\nmodels:\n  m:\n    pricing:\n      batch: 1\n", 5, "unknown price 'batch'"),
        new Bad("provider: openai\nmodels:\n  m:\n    context_windw: 5\n", 4, "unknown field 'context_windw'"),
        new Bad("provider: openai\nmodels:\n  m:\n    deprecation_date: \"soon\"\n", 4,
            "models.m.deprecation_date must be a date \"YYYY-MM-DD\""),
        new Bad("provider: openai\nmodels:\n  m:\n    capabilities: tools\n", 4,
            "models.m.capabilities must be a list of strings"),
        new Bad("provider: openai\nmodels:\n  m:\n    capabilities: [tools, 3]\n", 4,
            "models.m.capabilities must hold only strings"),
        new Bad("provider: openai\nmodels:\n  m:\n    mode: yes\n", 4, "models.m.mode must be a string, not a boolean"),
        new Bad("provider: openai\nmodels:\n  m:\n    mode: chat\n  m:\n    mode: chat\n", 5,
            "duplicate key 'models.m'"),
        new Bad("provider: openai\nmodels:\n  m:\n", 3, "models.m must be a mapping of fields"),
        new Bad("provider: anthropic\nmodels: {}\n", 1, "provider is 'anthropic' but the file name says 'openai'"),
        new Bad("provider: openai\nmodel: {}\n", 2, "unknown top-level key 'model'"),
        new Bad("- a\n- b\n", 1, "the top level must be a mapping"));
    for (Bad b : cases) {
      CatalogLoadException e = loadFails("openai.yml", b.yaml());
      assertEquals(b.line(), e.line(), b.yaml() + " -> " + e.getMessage());
      assertTrue(e.problem().startsWith(b.problemStart()), b.yaml() + " -> " + e.problem());
    }
  }

  @Test
  void missingModelsOrEmptyFileConcernsTheWholeFile() throws IOException {
    CatalogLoadException e = loadFails("mock.yml", "provider: mock\n");
    assertEquals(0, e.line());
    assertTrue(e.problem().contains("'models' is missing"), e.problem());
    e = loadFails("mock.yml", "");
    assertTrue(e.problem().contains("empty"), e.problem());
  }

  @Test
  void twoFilesForOneProviderAreRejected() throws IOException {
    Files.writeString(tmp.resolve("mock.yaml"), "models: {}\n");
    CatalogLoadException e = loadFails("mock.yml", "models: {}\n");
    assertTrue(e.problem().contains("a second file for provider 'mock'"), e.problem());
  }

  @Test
  void aMissingDirectoryFailsLoading() {
    CatalogLoadException e = assertThrows(CatalogLoadException.class,
        () -> ModelCatalog.load(new CatalogSettings(tmp.resolve("nope"), true)));
    assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
  }

  @Test
  void aBadCatalogFailsClientStartUp() throws IOException {
    Files.writeString(tmp.resolve("openai.yml"), "provider: openai\nmodels:\n  m:\n    context_window: many\n");
    var config = io.pekkollm.testkit.TestConfig.of("pekko-llm.catalog.models-dir = \""
        + tmp.toString().replace("\\", "\\\\") + "\"");
    CatalogLoadException e = assertThrows(CatalogLoadException.class, () -> LlmClient.create(config));
    assertEquals(4, e.line());
    assertNull(e.getCause());
  }
}
