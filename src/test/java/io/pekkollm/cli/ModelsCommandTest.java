package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.TestConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code models} filters and table over a catalog with mock models of known capabilities and prices. */
class ModelsCommandTest {
  private static final Path MODELS_DIR;

  static {
    try {
      MODELS_DIR = Files.createTempDirectory("models-cli");
      Files.writeString(MODELS_DIR.resolve("mock.yml"), """
          provider: mock
          models:
            echo:
              mode: chat
              context_window: 128000
              pricing: { input: 0, output: 0 }
              capabilities: [streaming, system_messages, tools]
            vis:
              mode: chat
              context_window: 64000
              pricing: { input: 0.5, output: 1.5 }
              capabilities: [tools, vision]
            emb:
              mode: embedding
              pricing: { input: 0.02 }
            big:
              mode: chat
              context_window: 200000
              pricing: { input: 15, output: 75 }
              capabilities: [reasoning, tools]
          """);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static LlmClient client() {
    return LlmClient.create(TestConfig.of("pekko-llm.catalog.models-dir = \"" + MODELS_DIR + "\"\n"
        + "pekko-llm.recovery.enabled = off\npekko-llm.sessions.enabled = off"));
  }

  private static String run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = ModelsCommand.run(ModelsCommand.parse(Arrays.asList(args)), ModelsCommandTest::client,
        new PrintStream(out, true, StandardCharsets.UTF_8), false);
    assertEquals(0, code);
    return out.toString(StandardCharsets.UTF_8);
  }

  static Stream<Arguments> filters() {
    return Stream.of(
        Arguments.of(List.of(), List.of("mock/big", "mock/echo", "mock/emb", "mock/vis")),
        Arguments.of(List.of("--capability", "vision"), List.of("mock/vis")),
        Arguments.of(List.of("--capability", "tools", "--capability", "reasoning"), List.of("mock/big")),
        Arguments.of(List.of("--capability", "embeddings"), List.of("mock/emb")),
        Arguments.of(List.of("--max-price", "1"), List.of("mock/echo", "mock/emb", "mock/vis")),
        Arguments.of(List.of("--max-price", "0.02"), List.of("mock/echo", "mock/emb")),
        Arguments.of(List.of("--max-price", "0"), List.of("mock/echo")),
        Arguments.of(List.of("--capability", "reasoning", "--max-price", "1"), List.of()),
        Arguments.of(List.of("-c", "TOOLS", "--max-price", "10"), List.of("mock/echo", "mock/vis")));
  }

  @ParameterizedTest
  @MethodSource("filters")
  void filtersSelectTheCatalogsModels(List<String> filter, List<String> expected) {
    String[] args = Stream.concat(Stream.of("--provider", "mock", "--plain"), filter.stream()).toArray(String[]::new);
    assertEquals(expected, run(args).lines().toList());
  }

  @Test
  void tableShowsContextPricesAndCapabilities() {
    List<String> lines = run("--provider", "mock", "--table").lines().toList();
    assertTrue(lines.get(0).matches("MODEL\\s+CONTEXT\\s+IN \\$/1M\\s+OUT \\$/1M\\s+CAPABILITIES"), lines.get(0));
    assertTrue(lines.stream().anyMatch(l -> l.matches("mock/vis\\s+64000\\s+0\\.5\\s+1\\.5\\s+tools,vision")),
        String.join("\n", lines));
    assertTrue(lines.stream().anyMatch(l -> l.matches("mock/emb\\s+-\\s+0\\.02\\s+-\\s+embeddings")),
        String.join("\n", lines));
    assertEquals("4 models", lines.get(lines.size() - 1));
  }

  @Test
  void withoutOptionsTheListingIsPrintedAsBefore() {
    assertEquals(List.of("mock/echo"), run("--plain").lines().filter(l -> l.startsWith("mock/")).toList());
  }

  static Stream<Arguments> badOptions() {
    return Stream.of(
        Arguments.of(List.of("--capability", "telepathy"), "unknown capability 'telepathy'"),
        Arguments.of(List.of("--max-price", "cheap"), "--max-price needs a number"),
        Arguments.of(List.of("--max-price", "-1"), "--max-price must not be negative"),
        Arguments.of(List.of("--max-price"), "--max-price needs a value"),
        Arguments.of(List.of("--provider", "nosuch"), "--provider 'nosuch' is not an enabled provider"),
        Arguments.of(List.of("--frobnicate"), "unknown option '--frobnicate' for models"));
  }

  @ParameterizedTest
  @MethodSource("badOptions")
  void badOptionsExitWithTwoAndSayWhy(List<String> options, String message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] args = Stream.concat(Stream.of("models"), options.stream()).toArray(String[]::new);
    int code = Main.run(args, new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, code, err.toString(StandardCharsets.UTF_8));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains(message), err.toString(StandardCharsets.UTF_8));
  }
}
