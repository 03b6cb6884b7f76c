package io.pekkollm.cli;

import io.pekkollm.api.ChatStreamHandler;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.Usage;
import io.pekkollm.stream.ChatStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * {@code chat} without a message: an interactive conversation. Each line is sent with the conversation so far and
 * the answer streams in as it arrives; commands start with a slash: {@code /model [M]}, {@code /system [TEXT]},
 * {@code /reset}, {@code /cost}, {@code /help}, {@code /exit} (or end of input). Line editing and history (arrow
 * keys; kept in {@code ~/.pekko_llm_history}) come from JLine on a terminal, where Ctrl-C stops an answer that is
 * streaming; when standard input is not a terminal (a pipe, a file) the same commands are read plainly, line by line,
 * with no history.
 *
 * <p>It runs its own client without the stream journal and sessions ({@link Main#withoutJournal()}), like one-shot
 * {@code chat}, so it works beside a gateway serving from the same directory (which holds the H2 journal's lock).
 * Not thread-safe: one conversation.
 */
final class ChatRepl {
  static final String HELP = """
      commands:
        /model [provider/model]  show or change the model (a group name works too)
        /system [text]           set the system prompt (no text: remove it)
        /reset                   forget the conversation (keeps model and system prompt)
        /cost                    tokens and cost of this conversation so far
        /help                    this list
        /exit                    leave (so does end of input, Ctrl-D)
      anything else is sent as your message; Ctrl-C stops a streaming answer.""";

  /** Where lines come from: JLine on a terminal, or plain lines from a pipe. */
  private interface Lines {
    /** The next line after showing {@code prompt}; null at the end of input; "" after Ctrl-C. */
    String read(String prompt);
  }

  private final LlmClient client;
  private final Lines lines;
  private final PrintWriter out;
  private String model;
  private String system;
  private final List<Message> history = new ArrayList<>();
  private long inputTokens;
  private long outputTokens;
  private BigDecimal cost = BigDecimal.ZERO;
  private boolean costUnknown;
  private volatile ChatStream current;

  private ChatRepl(LlmClient client, String model, Lines lines, PrintWriter out) {
    this.client = client;
    this.model = model;
    this.lines = lines;
    this.out = out;
  }

  /**
   * A conversation on the process's terminal ({@code systemTerminal}: JLine, history in the user's home), or over
   * {@code in} and {@code out} read and written plainly.
   */
  static int run(LlmClient client, String model, InputStream in, OutputStream out, boolean systemTerminal)
      throws IOException {
    if (!systemTerminal) {
      java.io.BufferedReader reader = new java.io.BufferedReader(
          new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8));
      PrintWriter writer = new PrintWriter(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8),
          true);
      return new ChatRepl(client, model, prompt -> {
        writer.print(prompt);
        writer.flush();
        try {
          return reader.readLine();
        } catch (IOException e) {
          return null;
        }
      }, writer).loop();
    }
    try (Terminal terminal = TerminalBuilder.builder().system(true).build()) {
      LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("pekko-llm")
          .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".pekko_llm_history"))
          .build();
      ChatRepl[] repl = new ChatRepl[1];
      repl[0] = new ChatRepl(client, model, prompt -> {
        try {
          return reader.readLine(prompt);
        } catch (UserInterruptException e) {
          return "";
        } catch (EndOfFileException e) {
          return null;
        }
      }, terminal.writer());
      // Ctrl-C while an answer streams stops it (while a line is read, JLine turns it into UserInterruptException).
      terminal.handle(Terminal.Signal.INT, s -> {
        ChatStream c = repl[0].current;
        if (c != null) {
          c.cancel();
        }
      });
      try {
        return repl[0].loop();
      } finally {
        reader.getHistory().save();
      }
    }
  }

  private int loop() {
    out.println("pekko-llm chat with " + model + ": /help for commands, /exit to leave");
    out.flush();
    while (true) {
      String line = lines.read(model + "> ");
      if (line == null) {
        out.println();
        out.flush();
        return 0;
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("/")) {
        if (!command(line)) {
          return 0;
        }
      } else {
        send(line);
      }
      out.flush();
    }
  }

  /** Carries out a slash command; false for /exit. */
  private boolean command(String line) {
    int space = line.indexOf(' ');
    String name = space < 0 ? line : line.substring(0, space);
    String arg = space < 0 ? "" : line.substring(space + 1).strip();
    switch (name) {
      case "/exit", "/quit" -> {
        return false;
      }
      case "/help" -> out.println(HELP);
      case "/model" -> {
        if (arg.isEmpty()) {
          out.println("model: " + model);
        } else {
          try {
            String resolved = client.resolveModel(arg);
            int slash = resolved.indexOf('/');
            if (client.routing().group(resolved).isEmpty()
                && (slash <= 0 || !client.enabledProviderNames().contains(resolved.substring(0, slash)))) {
              out.println("error: no enabled provider or model group for '" + arg + "'; providers: "
                  + String.join(", ", client.enabledProviderNames()));
            } else {
              model = resolved;
              out.println("model: " + model);
            }
          } catch (LlmException e) {
            out.println("error: " + e.getMessage());
          }
        }
      }
      case "/system" -> {
        system = arg.isEmpty() ? null : arg;
        out.println(system == null ? "system prompt removed" : "system prompt set");
      }
      case "/reset" -> {
        history.clear();
        out.println("conversation cleared");
      }
      case "/cost" -> out.println("tokens: " + inputTokens + " in, " + outputTokens + " out; cost: "
          + (costUnknown ? "at least " : "") + "$" + cost.stripTrailingZeros().toPlainString()
          + (costUnknown ? " (some models are not priced in the catalog)" : ""));
      default -> out.println("unknown command " + name + " (/help lists them)");
    }
    return true;
  }

  /** Sends {@code text} with the conversation so far and prints the answer as it streams. */
  private void send(String text) {
    ChatRequest.Builder b = ChatRequest.builder(model);
    if (system != null) {
      b.system(system);
    }
    history.forEach(b::addMessage);
    b.user(text);
    CompletableFuture<ChatResponse> answer = new CompletableFuture<>();
    try {
      current = client.stream(b.build(), new ChatStreamHandler() {
        @Override
        public void onChunk(ChatChunk chunk) {
          if (chunk.textDelta() != null && !chunk.textDelta().isEmpty()) {
            out.print(chunk.textDelta());
            out.flush();
          }
        }

        @Override
        public void onComplete(ChatResponse response) {
          answer.complete(response);
        }

        @Override
        public void onError(Throwable error) {
          answer.completeExceptionally(error);
        }
      });
      ChatResponse r = answer.join();
      out.println();
      history.add(Message.user(text));
      history.add(Message.assistant(r.text()));
      count(r);
    } catch (CompletionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      out.println();
      if (cause instanceof LlmException le) {
        out.println("error: " + le.kind() + ": " + le.getMessage());
      } else if (cause instanceof org.apache.pekko.stream.StreamDetachedException
          || cause.getClass().getSimpleName().contains("Abrupt")) {
        out.println("(stopped)");
      } else {
        out.println("error: " + cause);
      }
    } finally {
      current = null;
    }
  }

  private void count(ChatResponse r) {
    Usage u = r.usage();
    if (u != null) {
      inputTokens += u.inputTokens();
      outputTokens += u.outputTokens();
    }
    if (r.cost().isPresent()) {
      cost = cost.add(r.cost().get().total());
    } else {
      costUnknown = true;
    }
  }
}
