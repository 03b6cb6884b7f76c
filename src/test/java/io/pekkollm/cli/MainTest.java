package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new java.io.ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void chatWithTheMockPrintsTheAnswer() {
    assertEquals(0, run("chat", "--model", "mock/echo", "hello", "cli"));
    assertEquals("hello cli", out.toString(StandardCharsets.UTF_8).strip());
    assertEquals(0, run("chat", "--no-stream", "again"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("again"));
  }

  @Test
  void badUsageExitsWithTwoAndSaysWhy() {
    assertEquals(2, run());
    assertEquals(2, run("frobnicate"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown command 'frobnicate'"));
    assertEquals(2, run("serve", "--port", "eighty"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--port needs a number"));
    assertEquals(2, run("chat", "--frobnicate", "hi"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown option '--frobnicate' for chat"));
    assertEquals(2, run("chat", "--interactive", "text"));
  }

  @Test
  void providerErrorsExitWithOne() {
    assertEquals(1, run("chat", "--model", "mock/error-401", "x"));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("AUTHENTICATION"), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void modelsListsTheMock() {
    assertEquals(0, run("models"));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("mock/echo"));
  }

  /**
   * A gateway running from a directory holds its H2 journal's file lock; chat and models run from the same
   * directory used to fail with H2's "Database may be already in use". The gateway is a real second process.
   */
  @Test
  void chatAndModelsWorkBesideAGatewayOnTheSameDataDir() throws Exception {
    Path dir = Files.createTempDirectory("cli-beside-gateway");
    ProcessBuilder pb = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Xmx256m", Main.class.getName(), "serve", "--port", "0")
        .redirectErrorStream(true);
    pb.environment().put("PEKKO_LLM_DATA_DIR", dir.toString());
    Process gateway = pb.start();
    String previous = System.getProperty("pekko-llm.recovery.data-dir");
    try {
      BufferedReader lines = new BufferedReader(new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8));
      String started = CompletableFuture.supplyAsync(() -> {
        try {
          StringBuilder seen = new StringBuilder();
          for (String line; (line = lines.readLine()) != null; ) {
            if (line.contains("listening on")) {
              return line;
            }
            seen.append(line).append('\n');
          }
          throw new IllegalStateException("the gateway stopped before listening:\n" + seen);
        } catch (java.io.IOException e) {
          throw new IllegalStateException(e);
        }
      }).get(60, TimeUnit.SECONDS);
      assertTrue(Files.exists(dir.resolve("journal.mv.db")), started);
      // This JVM's configuration now names the gateway's data directory, as running from its directory does.
      System.setProperty("pekko-llm.recovery.data-dir", dir.toString());
      assertEquals(0, run("chat", "--model", "mock/echo", "beside", "it"), err.toString(StandardCharsets.UTF_8));
      assertTrue(out.toString(StandardCharsets.UTF_8).contains("beside it"));
      assertEquals(0, run("models"), err.toString(StandardCharsets.UTF_8));
      assertTrue(out.toString(StandardCharsets.UTF_8).contains("mock/echo"));
    } finally {
      if (previous == null) {
        System.clearProperty("pekko-llm.recovery.data-dir");
      } else {
        System.setProperty("pekko-llm.recovery.data-dir", previous);
      }
      gateway.destroy();
      if (!gateway.waitFor(20, TimeUnit.SECONDS)) {
        gateway.destroyForcibly();
      }
    }
  }
}
