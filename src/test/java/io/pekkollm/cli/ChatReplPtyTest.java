package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The interactive chat on a real pseudo-terminal (util-linux {@code script} gives the child JVM one), so JLine runs
 * as it does for a user: the answer streams, the up arrow recalls the last line from history, /exit leaves, and
 * the history file is written. Keys are sent only once the REPL shows what the previous one did.
 */
class ChatReplPtyTest {

  @Test
  void upArrowRecallsTheLastLineOnARealTerminal() throws Exception {
    Path script = Paths.get("/usr/bin/script");
    Assumptions.assumeTrue(Files.isExecutable(script), "needs util-linux script for a pseudo-terminal");
    Path home = Files.createTempDirectory("repl-home");
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    String command = "stty cols 100 rows 40; exec " + java + " -Xmx256m -Duser.home=" + home + " -cp '"
        + System.getProperty("java.class.path") + "' " + Main.class.getName() + " chat";
    ProcessBuilder pb = new ProcessBuilder(script.toString(), "-qfec", command, "/dev/null").redirectErrorStream(true);
    pb.environment().put("TERM", "xterm");
    Process p = pb.start();
    StringBuffer seen = new StringBuffer();
    Thread reader = new Thread(() -> {
      try (InputStream in = p.getInputStream()) {
        byte[] buf = new byte[4096];
        for (int n; (n = in.read(buf)) > 0; ) {
          seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
      } catch (java.io.IOException ignored) {
        // the process ended
      }
    });
    reader.setDaemon(true);
    reader.start();
    try (OutputStream keys = p.getOutputStream()) {
      await(seen, s -> s.contains("pekko-llm chat with mock/echo"));
      keys.write("hello pty\r".getBytes(StandardCharsets.UTF_8));
      keys.flush();
      await(seen, s -> count(s, "hello pty") >= 2); // the echoed line and the answer
      // Up arrow as xterm sends it in the application-cursor mode JLine turns on; then Enter.
      keys.write("\033OA".getBytes(StandardCharsets.UTF_8));
      keys.flush();
      await(seen, s -> count(s, "hello pty") >= 3);
      keys.write("\r".getBytes(StandardCharsets.UTF_8));
      keys.flush();
      await(seen, s -> count(s, "hello pty") >= 4); // the recalled line, answered again
      keys.write("/exit\r".getBytes(StandardCharsets.UTF_8));
      keys.flush();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the REPL left on /exit: " + seen);
      assertEquals(0, p.exitValue(), seen.toString());
    } finally {
      p.destroyForcibly();
    }
    String history = Files.readString(home.resolve(".pekko_llm_history"));
    assertTrue(history.contains("hello pty") && history.contains("/exit"), history);
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  private static void await(StringBuffer seen, Predicate<String> done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!done.test(seen.toString())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the terminal did not show what was expected within 60 s:\n" + seen);
      }
      Thread.sleep(20);
    }
  }
}
