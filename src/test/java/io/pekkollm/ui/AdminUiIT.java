package io.pekkollm.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.http.GatewayServer;
import io.pekkollm.http.GatewaySettings;
import io.pekkollm.testkit.FakeProvider;
import io.pekkollm.testkit.TestConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.Test;

/**
 * The admin web UI end to end in a real browser: Debian's headless Chromium driven by {@code playwright-core} (no
 * browser download), from {@code src/test/ui/admin-ui.mjs}, against this gateway and fake providers on loopback
 * (Ollama's and OpenAI's wire formats). The script runs the wizard for the Ollama, Groq, Together and Fireworks
 * templates, a wizard whose model list fails and falls back, a failing connection test, search and filters, and the
 * live view of a stream that is interrupted and then resumed; it saves a screenshot of each step and its timings
 * under {@code target/ui-e2e/}. Skipped, saying why, when Chromium, Node or the UI's npm packages are missing
 * ({@code .ci/run} installs them).
 */
class AdminUiIT {
  private static final Path UI = Paths.get("src/main/ui");
  private static final Path SCRIPT = Paths.get("src/test/ui/admin-ui.mjs");
  private static final String CHROMIUM = System.getenv().getOrDefault("PEKKO_LLM_CHROMIUM", "/usr/bin/chromium");
  private static final String MASTER = "master-key-ui-test";
  private static final String SECRETS_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

  @Test
  void wizardProvidersAndLiveViewWorkInABrowser() throws Exception {
    assumeTrue(new File(CHROMIUM).canExecute(), "no Chromium at " + CHROMIUM
        + ": install Debian's package (apt-get install -y chromium) to run the browser tests");
    assumeTrue(Files.isDirectory(UI.resolve("node_modules/playwright-core")),
        "src/main/ui/node_modules/playwright-core is missing: run mvn package (npm ci) first");
    assumeTrue(Files.exists(Paths.get("target/classes/io/pekkollm/ui/index.html")), "the UI is not built");
    Path out = Paths.get("target/ui-e2e");
    deleteTree(out);
    Files.createDirectories(out);
    Path data = Files.createTempDirectory("pekko-llm-ui-it");
    List<AutoCloseable> close = new ArrayList<>();
    try {
      FakeProvider ollama = add(close, new FakeProvider(FakeProvider.Format.OLLAMA, null, "ollama"))
          .models(List.of("llama3.2:latest", "qwen2.5:7b"));
      FakeProvider groq = add(close, new FakeProvider(FakeProvider.Format.OPENAI, "gsk_uitest0123456789abcd", "groq"))
          .models(List.of("llama-3.1-8b-instant", "llama-3.3-70b-versatile"));
      FakeProvider together = add(close, new FakeProvider(FakeProvider.Format.OPENAI,
          "together_uitest_0123456789", "together")).models(List.of("meta-llama/Llama-3.3-70B-Instruct-Turbo"));
      FakeProvider fireworks = add(close, new FakeProvider(FakeProvider.Format.OPENAI, "fw_uitest0123456789abcd",
          "fireworks")).models(List.of("accounts/fireworks/models/llama-v3p1-8b-instruct"));
      FakeProvider noList = add(close, new FakeProvider(FakeProvider.Format.OPENAI, "gsk_uitest0123456789abcd",
          "nolist")).failModels(true);
      // The configured openai provider: its first stream is cut after 3 chunks, so the live view sees it
      // interrupted; the resume then completes.
      FakeProvider streams = add(close, new FakeProvider(FakeProvider.Format.OPENAI, null, "streams"))
          .cutStreamsAfter(3).cutOnly(1).chunkDelay(java.time.Duration.ofMillis(30));
      Config config = TestConfig.of("pekko-llm.gateway.port = 0\npekko-llm.gateway.access-log = off\n"
          + "pekko-llm.recovery.data-dir = \"" + data.toString().replace("\\", "/") + "\"\n"
          + "pekko-llm.gateway.master-key = \"" + MASTER + "\"\n"
          + "pekko-llm.admin.secrets-key = \"" + SECRETS_KEY + "\"\npekko-llm.admin.test-timeout = 30s\n"
          + "pekko-llm.providers.openai { base-url = \"" + streams.baseUrl() + "\", api-key = \"sk-test-key-ui\" }\n");
      LlmClient client = LlmClient.create(config);
      close.add(client);
      ServerBinding binding = GatewayServer.start(client, GatewaySettings.create(config)).toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      close.add(binding::unbind);
      ProcessBuilder pb = new ProcessBuilder("node", SCRIPT.toAbsolutePath().toString())
          .redirectErrorStream(true).redirectOutput(out.resolve("node.log").toFile());
      Map<String, String> env = pb.environment();
      env.put("GATEWAY", "http://127.0.0.1:" + binding.localAddress().getPort());
      env.put("ADMIN_KEY", MASTER);
      env.put("CHROMIUM", CHROMIUM);
      env.put("OUT", out.toAbsolutePath().toString());
      env.put("UI_DIR", UI.toAbsolutePath().toString());
      env.put("ASSETS", Paths.get("target/classes/io/pekkollm/ui").toAbsolutePath().toString());
      env.put("OLLAMA_URL", ollama.baseUrl());
      env.put("GROQ_URL", groq.baseUrl());
      env.put("TOGETHER_URL", together.baseUrl());
      env.put("FIREWORKS_URL", fireworks.baseUrl());
      env.put("NOLIST_URL", noList.baseUrl());
      Process p = pb.start();
      boolean ended = p.waitFor(300, TimeUnit.SECONDS);
      if (!ended) {
        p.destroyForcibly();
      }
      String log = Files.readString(out.resolve("node.log"), StandardCharsets.UTF_8);
      System.out.println(log);
      assertEquals(true, ended, "the browser script did not end within 300 s:\n" + log);
      assertEquals(0, p.exitValue(), "the browser script failed:\n" + log);
    } finally {
      for (int i = close.size() - 1; i >= 0; i--) {
        try {
          close.get(i).close();
        } catch (Exception e) {
          // keep closing the rest
        }
      }
      deleteTree(data);
    }
  }

  private static <T extends AutoCloseable> T add(List<AutoCloseable> list, T c) {
    list.add(c);
    return c;
  }

  private static void deleteTree(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
