package io.pekkollm.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.http.GatewayServer;
import io.pekkollm.http.GatewaySettings;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.LlmException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The jar's entry point: {@code serve [--host H] [--port P]}, {@code chat [--model M] [--no-stream] TEXT...},
 * {@code models}, {@code check-config [--connect]}. Exit codes: 0 success, 1 runtime failure (an unreachable
 * journal for {@code check-config --connect}), 2 bad usage or configuration.
 */
public final class Main {
  private static final String USAGE = """
      usage: java -jar pekko-llm.jar <command> [options]
        serve [--host HOST] [--port PORT]    run the OpenAI-compatible gateway (default 127.0.0.1:8080)
        chat [--model M] [--no-stream] TEXT  send one message and print the answer (default model mock/echo)
        chat [--model M] [--interactive]     a conversation: streamed answers, /model, /system, /reset, /cost,
                                             /help, /exit; history with the arrow keys
        models [--provider P] [--capability C] [--max-price USD] [--table | --plain]
                                             list models (API listings; with a filter or --table the catalog's too:
                                             context, USD per 1M tokens, capabilities; --max-price is per 1M input)
        check-config [--connect]             validate the configuration and print what serve would run;
                                             --connect also opens the journal
      Configuration: environment variables and -Dkey=value, see README.md and reference.conf.""";

  private Main() {}

  public static void main(String[] args) {
    useParallelCommonPool();
    System.exit(run(args, System.in, System.out, System.err));
  }

  static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  /**
   * Gives the common ForkJoinPool at least two workers unless the user chose a size. Pekko's Java API returns
   * CompletionStages (Scala's FutureConverters) whose plain callbacks ({@code thenApply}, {@code handle}, ...) run
   * on that pool; with two CPUs or fewer its parallelism is 1, and CompletableFuture then starts a new thread for
   * every callback (its ThreadPerTaskExecutor), several per request. Must run before anything touches the pool.
   */
  static void useParallelCommonPool() {
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null && Runtime.getRuntime().availableProcessors() <= 2) {
      System.setProperty(COMMON_POOL_PARALLELISM, "2");
    }
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, System.in, out, err);
  }

  /** The command {@code args} with {@code in} as standard input (the interactive chat reads it); the exit code. */
  static int run(String[] args, java.io.InputStream in, PrintStream out, PrintStream err) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      out.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    try {
      return switch (args[0]) {
        case "serve" -> serve(args, out, err);
        case "chat" -> chat(args, in, out, err);
        case "models" -> ModelsCommand.run(ModelsCommand.parse(List.of(args).subList(1, args.length)),
            () -> LlmClient.create(withoutJournal()), out, out == System.out && System.console() != null);
        case "check-config" -> checkConfig(args, out, err);
        default -> {
          err.println("unknown command '" + args[0] + "'\n" + USAGE);
          yield 2;
        }
      };
    } catch (UsageException | ConfigException | IllegalArgumentException e) {
      err.println("pekko-llm: " + e.getMessage());
      return 2;
    } catch (IllegalStateException e) {
      err.println("pekko-llm: " + e.getMessage());
      return 1;
    }
  }

  private static int serve(String[] args, PrintStream out, PrintStream err) {
    warmUpInBackground();
    Config config = io.pekkollm.api.LlmConfig.load();
    ConfigCheck.Report check = ConfigCheck.run(config, System.getenv(), false, false);
    check.warnings().forEach(w -> err.println("pekko-llm: warning: " + w));
    if (!check.errors().isEmpty()) {
      check.errors().forEach(e -> err.println("pekko-llm: " + e));
      err.println("pekko-llm: not starting: " + check.errors().size() + " configuration error(s) (see check-config)");
      return 2;
    }
    GatewaySettings gs = GatewaySettings.create(config);
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--host" -> gs = gs.withHost(value(args, ++i, "--host"));
        case "--port" -> {
          String v = value(args, ++i, "--port");
          try {
            gs = gs.withPort(Integer.parseInt(v));
          } catch (NumberFormatException e) {
            throw new UsageException("--port needs a number, not '" + v + "'");
          }
        }
        default -> throw new UsageException("unknown option '" + args[i] + "' for serve");
      }
    }
    LlmClient client = LlmClient.create(config);
    ServerBinding binding;
    try {
      binding = GatewayServer.start(client, gs).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      client.close();
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof IllegalStateException ise) {
        throw ise;
      }
      throw new IllegalStateException("cannot bind " + gs.host() + ":" + gs.port() + ": " + cause.getMessage(), cause);
    }
    var addr = binding.localAddress();
    out.println("pekko-llm gateway listening on http://" + addr.getHostString() + ":" + addr.getPort()
        + " (providers: " + String.join(", ", client.providerNames()) + ")");
    out.flush();
    client.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }

  /**
   * Start-up work that needs no configuration, moved off the main thread so that it runs on the second core while
   * the main thread parses the configuration and starts the actor system: loading the bundled model catalog
   * ({@link LlmClient} waits for it and fails with its error), initialising logging (logback reads its XML
   * configuration, several hundred classes) and the JVM's default TLS context (Pekko HTTP's server binding needs
   * it even for plain HTTP; it reads the CA certificates), and loading the classes start-up is known to need
   * ({@link #preloadClasses}; {@code -Dpekko-llm.no-preload=true} turns that off). A failure of any but the catalog
   * is ignored here: the main thread meets and reports it where it always did.
   */
  static void warmUpInBackground() {
    ModelCatalog.preloadBundled();
    Thread t = new Thread(() -> {
      try {
        org.slf4j.LoggerFactory.getILoggerFactory();
        javax.net.ssl.SSLContext.getDefault().createSSLEngine();
      } catch (Exception | LinkageError ignored) {
        // reported by the code that needs it
      }
    }, "pekko-llm-warm-up");
    t.setDaemon(true);
    t.start();
    if (!Boolean.getBoolean("pekko-llm.no-preload")) {
      Thread p = new Thread(Main::preloadClasses, "pekko-llm-class-preload");
      p.setDaemon(true);
      p.start();
    }
  }

  static final String STARTUP_CLASSES = "META-INF/pekko-llm/startup-classes.txt";

  /**
   * Loads, without initialising, the classes listed in {@link #STARTUP_CLASSES}: class loading (jar look-up,
   * parsing, defining) is most of a cold start-up, and done here it runs on the second core ahead of the main
   * thread, which finds the classes loaded. No static initialiser runs, so nothing changes but timing.
   */
  static void preloadClasses() {
    ClassLoader loader = Main.class.getClassLoader();
    try (java.io.InputStream in = loader.getResourceAsStream(STARTUP_CLASSES)) {
      if (in == null) {
        return;
      }
      // Split by hand: thousands of readLine calls would have the JIT compile it at start-up.
      byte[] list = in.readAllBytes();
      int start = 0;
      for (int i = 0; i <= list.length; i++) {
        if (i == list.length || list[i] == '\n') {
          if (i > start && list[start] != '#') {
            try {
              Class.forName(new String(list, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1), false,
                  loader);
            } catch (ClassNotFoundException | LinkageError ignored) {
              // an optional class that is not there, or the list is older than the jar
            }
          }
          start = i + 1;
        }
      }
    } catch (java.io.IOException | RuntimeException ignored) {
      // only a warm-up
    }
  }

  private static int chat(String[] args, java.io.InputStream in, PrintStream out, PrintStream err) {
    String model = "mock/echo";
    boolean stream = true;
    boolean interactive = false;
    List<String> words = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      switch (args[i]) {
        case "--model", "-m" -> model = value(args, ++i, "--model");
        case "--no-stream" -> stream = false;
        case "--interactive", "-i" -> interactive = true;
        default -> {
          if (args[i].startsWith("--")) {
            throw new UsageException("unknown option '" + args[i] + "' for chat (--model, --no-stream, --interactive)");
          }
          words.add(args[i]);
        }
      }
    }
    if (words.isEmpty() || interactive) {
      if (!words.isEmpty()) {
        throw new UsageException("chat --interactive takes no message text");
      }
      try (LlmClient client = LlmClient.create(withoutJournal())) {
        return ChatRepl.run(client, client.resolveModel(model), in, out, in == System.in && System.console() != null);
      } catch (java.io.IOException e) {
        throw new IllegalStateException("cannot open the terminal: " + e.getMessage(), e);
      }
    }
    ChatRequest request = ChatRequest.builder(model).user(String.join(" ", words)).build();
    try (LlmClient client = LlmClient.create(withoutJournal())) {
      if (stream) {
        client.stream(request)
            .runForeach(c -> {
              if (c.textDelta() != null) {
                out.print(c.textDelta());
                out.flush();
              }
            }, client.system())
            .toCompletableFuture().join();
        out.println();
      } else {
        ChatResponse r = client.chat(request).toCompletableFuture().join();
        out.println(r.text());
      }
      return 0;
    } catch (java.util.concurrent.CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof LlmException le) {
        err.println("pekko-llm: " + le.kind() + ": " + le.getMessage());
        return 1;
      }
      throw e;
    }
  }

  /**
   * The configuration of the one-shot commands: no stream journal and no sessions. They resume nothing, and the
   * embedded H2 journal is locked by a gateway running from the same directory ("Database may be already in
   * use"), so opening it would only make {@code chat} and {@code models} fail beside a running gateway.
   */
  static Config withoutJournal() {
    return ConfigFactory.parseString("pekko-llm.recovery.enabled = off\npekko-llm.sessions.enabled = off")
        .withFallback(io.pekkollm.api.LlmConfig.load());
  }

  private static int checkConfig(String[] args, PrintStream out, PrintStream err) {
    boolean connect = false;
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--connect")) {
        connect = true;
      } else {
        throw new UsageException("unknown option '" + args[i] + "' for check-config");
      }
    }
    return checkConfig(io.pekkollm.api.LlmConfig.load(), System.getenv(), connect, out, err);
  }

  /** check-config on {@code config} and {@code env}: prints the plan, warnings and errors; returns the exit code. */
  static int checkConfig(Config config, java.util.Map<String, String> env, boolean connect, PrintStream out,
      PrintStream err) {
    ConfigCheck.Report report = ConfigCheck.run(config, env, connect);
    report.plan().forEach(out::println);
    report.warnings().forEach(w -> err.println("warning: " + w));
    report.errors().forEach(e -> err.println("error: " + e));
    if (report.unreachable() != null) {
      err.println("error: the journal cannot be opened: " + report.unreachable());
    }
    out.println(report.exitCode() == 0 ? "configuration OK" : "configuration has errors");
    return report.exitCode();
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new UsageException(option + " needs a value");
    }
    return args[i];
  }

  private static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
