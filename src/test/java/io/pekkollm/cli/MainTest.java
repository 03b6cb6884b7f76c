package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
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
    assertEquals(2, run("chat"));
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
}
