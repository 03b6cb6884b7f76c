package io.pekkollm.callback;

import io.pekkollm.util.Json;
import io.pekkollm.util.Redactor;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A built-in {@link LlmCallback} that appends every call's start, success and failure to a file, one JSON object a
 * line (see {@code pekko-llm.callbacks.file}); the file is created when missing and flushed every {@code flush-interval}
 * while events come, and on close. Request and answer text only when {@code includeBodies}, redacted. Used from its delivery thread only.
 */
public final class JsonLinesFileSink extends EventSink {
  private final Path path;
  private final CallEventJson json;
  private BufferedWriter out;

  /** A sink appending to {@code path}; nothing is opened until the first event. */
  public JsonLinesFileSink(Path path, boolean includeBodies, Redactor redactor) {
    this.path = path;
    this.json = new CallEventJson(includeBodies, redactor);
  }

  @Override
  public String name() {
    return "jsonl-file";
  }

  @Override
  void accept(CallEvent event) {
    try {
      if (out == null) {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
      out.write(Json.write(json.toJson(event)));
      out.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write callback events to " + path, e);
    }
  }

  @Override
  public void flush() {
    try {
      if (out != null) {
        out.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write callback events to " + path, e);
    }
  }

  @Override
  public void close() {
    try {
      if (out != null) {
        out.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + path, e);
    }
  }
}
