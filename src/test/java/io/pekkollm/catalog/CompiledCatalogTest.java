package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompiledCatalogTest {
  private static final Path SOURCE_DIR = Path.of("config/models");

  @TempDir
  Path tmp;

  private static List<String> sourceFiles() throws IOException {
    try (Stream<Path> s = Files.list(SOURCE_DIR)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml"))
          .collect(Collectors.toCollection(TreeSet::new)).stream().toList();
    }
  }

  private static CatalogReader.ProviderFile yaml(String name, byte[] bytes) {
    String shown = "classpath:config/models/" + name;
    return CatalogReader.read(new ByteArrayInputStream(bytes), shown, ModelCatalog.providerOf(name, shown));
  }

  @Test
  void theBuildCompiledEveryBundledFileFromItsCurrentYaml() throws IOException {
    Map<String, CompiledCatalog.Entry> compiled = CompiledCatalog.read(getClass().getClassLoader());
    assertEquals(new TreeSet<>(sourceFiles()), new TreeSet<>(compiled.keySet()),
        "mvn process-classes writes " + CompiledCatalog.RESOURCE);
    for (String name : sourceFiles()) {
      assertTrue(compiled.get(name).matches(Files.readAllBytes(SOURCE_DIR.resolve(name))), name + " is stale");
    }
  }

  @Test
  void compiledFilesHoldExactlyWhatTheYamlSays() throws IOException {
    List<CompiledCatalog.Entry> entries = new ArrayList<>();
    for (String name : sourceFiles()) {
      byte[] bytes = Files.readAllBytes(SOURCE_DIR.resolve(name));
      entries.add(new CompiledCatalog.Entry(CompiledCatalog.crc32(bytes), bytes.length, yaml(name, bytes)));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CompiledCatalog.write(entries, out);
    Map<String, CompiledCatalog.Entry> back = CompiledCatalog.read(new ByteArrayInputStream(out.toByteArray()));
    int models = 0;
    for (CompiledCatalog.Entry e : entries) {
      String name = e.file().provider() + ".yml";
      CompiledCatalog.Entry b = back.get(name);
      // ModelEntry.equals compares every field: limits, prices (value and scale), capabilities, dates, aliases.
      assertEquals(e.file(), b.file(), name);
      assertEquals(e.crc(), b.crc());
      assertEquals(e.size(), b.size());
      models += b.file().models().size();
    }
    assertTrue(models > 1000, "models: " + models);
  }

  @Test
  void yamlThatDiffersFromTheCompiledFileWins() throws IOException {
    String original = """
        provider: mock
        models:
          echo:
            context_window: 1000
        """;
    String edited = original.replace("1000", "2000");
    byte[] compiledFrom = original.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream bin = new ByteArrayOutputStream();
    CompiledCatalog.write(List.of(new CompiledCatalog.Entry(CompiledCatalog.crc32(compiledFrom),
        compiledFrom.length, yaml("mock.yml", compiledFrom))), bin);

    try (URLClassLoader loader = loader(jar("fresh.jar", original, bin.toByteArray()))) {
      assertEquals(1000, ModelCatalog.loadBundled(loader).find("mock/echo").orElseThrow().contextWindow().getAsInt());
    }
    try (URLClassLoader loader = loader(jar("stale.jar", edited, bin.toByteArray()))) {
      assertEquals(2000, ModelCatalog.loadBundled(loader).find("mock/echo").orElseThrow().contextWindow().getAsInt());
    }
    // A malformed YAML file fails loading with its position even though a compiled (older) version exists.
    try (URLClassLoader loader = loader(jar("broken.jar", original.replace("1000", "[1000"), bin.toByteArray()))) {
      CatalogLoadException e = assertThrows(CatalogLoadException.class, () -> ModelCatalog.loadBundled(loader));
      assertEquals("classpath:config/models/mock.yml", e.file());
      assertTrue(e.line() > 0, e.getMessage());
    }
    // An unreadable compiled catalog only means the YAML is read.
    try (URLClassLoader loader = loader(jar("garbage.jar", original, new byte[] {1, 2, 3}))) {
      assertEquals(1000, ModelCatalog.loadBundled(loader).find("mock/echo").orElseThrow().contextWindow().getAsInt());
    }
  }

  @Test
  void theBuildStepLeavesOutAFileThatDoesNotLoad() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("models"));
    Files.copy(SOURCE_DIR.resolve("mock.yml"), dir.resolve("mock.yml"));
    Files.writeString(dir.resolve("broken.yml"), "provider: broken\nmodels:\n  x: [\n");
    Path out = tmp.resolve("out/catalog.bin");
    CompiledCatalog.main(new String[] {dir.toString(), out.toString()});
    Map<String, CompiledCatalog.Entry> compiled;
    try (var in = Files.newInputStream(out)) {
      compiled = CompiledCatalog.read(in);
    }
    assertEquals(List.of("mock.yml"), List.copyOf(compiled.keySet()));
    assertEquals(ModelCatalog.bundled().models("mock"), compiled.get("mock.yml").file().models());
  }

  // ------------------------------------------------------------------ background loading

  @Test
  void aBackgroundLoadIsSharedAndItsFailureIsThrownByGet() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    CatalogLoadException failure = new CatalogLoadException("x.yml", 3, 7, "bad", null);
    BackgroundLoad<String> load = new BackgroundLoad<>(() -> {
      calls.incrementAndGet();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      if (calls.get() == 1) {
        throw failure;
      }
      return "loaded";
    }, "test-load");
    load.startInBackground();
    load.startInBackground(); // no second computation while one is under way
    release.countDown();
    CatalogLoadException thrown = assertThrows(CatalogLoadException.class, load::get);
    assertSame(failure, thrown);
    assertEquals("x.yml:3:7: bad", thrown.getMessage());
    // Not cached: the next get computes again.
    assertEquals("loaded", load.get());
    assertEquals("loaded", load.get());
    assertEquals(2, calls.get());
  }

  @Test
  void preloadingGivesTheSameBundledCatalog() {
    ModelCatalog.preloadBundled();
    ModelCatalog c = ModelCatalog.bundled();
    assertSame(c, ModelCatalog.bundled());
    assertFalse(c.models().isEmpty());
    assertNotEquals(0, c.providers().size());
  }

  private Path jar(String name, String mockYaml, byte[] compiled) throws IOException {
    Path jar = tmp.resolve(name);
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
      j.putNextEntry(new JarEntry("config/models/mock.yml"));
      j.write(mockYaml.getBytes(StandardCharsets.UTF_8));
      j.closeEntry();
      j.putNextEntry(new JarEntry("config/models/index.txt"));
      j.write("mock.yml\n".getBytes(StandardCharsets.UTF_8));
      j.closeEntry();
      j.putNextEntry(new JarEntry(CompiledCatalog.RESOURCE));
      j.write(compiled);
      j.closeEntry();
    }
    return jar;
  }

  private static URLClassLoader loader(Path jar) throws IOException {
    return new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
  }
}
