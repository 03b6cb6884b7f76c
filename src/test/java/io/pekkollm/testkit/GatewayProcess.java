package io.pekkollm.testkit;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway jar ({@code pekko.llm.jar}, default {@code target/pekko-llm.jar}) as a real process, for the crash
 * tests: {@code java [jvmOptions] -jar <jar> serve --port 0}, its output appended to a log file, started once it
 * prints the port it listens on.
 */
public final class GatewayProcess {
  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

  /** A started gateway: its process and the port it listens on. */
  public record Started(Process process, int port) {}

  private GatewayProcess() {}

  /**
   * Starts the gateway with the environment of this JVM less {@code unset}, plus {@code env}; fails (the process
   * killed) with its output when it does not listen within {@code timeout}.
   */
  public static Started start(List<String> jvmOptions, List<String> unset, Map<String, String> env, Path log,
      Duration timeout) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", System.getProperty("pekko.llm.jar", "target/pekko-llm.jar"), "serve", "--port",
        "0"));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    unset.forEach(pb.environment()::remove);
    pb.environment().putAll(env);
    Process p = pb.start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (Exception e) {
        port.completeExceptionally(e);
      }
      port.completeExceptionally(new IllegalStateException("gateway exited; log: " + log));
    });
    reader.setDaemon(true);
    reader.start();
    try {
      return new Started(p, port.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (Exception e) {
      p.destroyForcibly();
      throw new AssertionError("the gateway did not start; its output: " + Files.readString(log), e);
    }
  }
}
