package io.pekkollm.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.Usage;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;

/**
 * Anthropic's Messages event stream ({@code event: <type>} and one {@code data:} line per event, as the API and its
 * SDKs frame it): {@code message_start} and a {@code ping} before the first content, then per content block
 * {@code content_block_start}, {@code content_block_delta} ({@code text_delta}, {@code thinking_delta},
 * {@code input_json_delta}) and {@code content_block_stop}, and at the end {@code message_delta} (stop reason and
 * the whole usage, which Anthropic reports there cumulatively) and {@code message_stop}. An interruption is a final
 * {@code event: error}, as Anthropic sends. The last event of each chunk carries {@code id: <seq>}, the journal's
 * sequence, which SSE clients ignore or send back as Last-Event-ID.
 *
 * <p>Blocks: text and thinking are one block per run; each tool call is its own block, open until the message
 * ends or text follows (a provider may interleave several calls' arguments). One per response; not thread-safe.
 */
final class MessagesEvents implements SseResponses.EventEncoder {
  private static final ByteString PING = event("ping", "{\"type\":\"ping\"}", -1);

  private final String id;
  private final Supplier<String> modelSource;
  private boolean started;
  private int nextIndex;
  /** The open text or thinking block: its kind ("text", "thinking") and index; null kind when none is open. */
  private String runKind;
  private int runIndex;
  /** Open tool-use blocks: the core's tool-call index → the block index. */
  private final TreeMap<Integer, Integer> openTools = new TreeMap<>();
  private FinishReason finish;
  private Usage usage;

  /** Events of message {@code id}, named after the model {@code model} gives when the first event is written. */
  MessagesEvents(String id, Supplier<String> model) {
    this.id = id;
    this.modelSource = model;
  }

  @Override
  public List<ByteString> encode(JournaledChunk j) {
    ChatChunk c = j.chunk();
    List<ByteString> out = new ArrayList<>(4);
    List<String[]> events = new ArrayList<>(4);
    start(out);
    if (c == null) {
      // The marker that lets a response start before its first new chunk.
      return out;
    }
    if (c.usage() != null) {
      usage = usage == null ? c.usage() : usage.merge(c.usage());
    }
    if (c.finishReason() != null) {
      finish = c.finishReason();
    }
    if (c.reasoningDelta() != null && !c.reasoningDelta().isEmpty()) {
      int index = run("thinking", events);
      events.add(delta(index, Json.object().put("type", "thinking_delta").put("thinking", c.reasoningDelta())));
    }
    if (c.textDelta() != null && !c.textDelta().isEmpty()) {
      int index = run("text", events);
      events.add(delta(index, Json.object().put("type", "text_delta").put("text", c.textDelta())));
    }
    for (ToolCallDelta t : c.toolCalls()) {
      Integer index = openTools.get(t.index());
      if (index == null) {
        closeRun(events);
        index = nextIndex++;
        openTools.put(t.index(), index);
        ObjectNode block = Json.object().put("type", "tool_use")
            .put("id", t.id() == null ? "toolu_" + id.substring(4) + "_" + t.index() : t.id())
            .put("name", t.name() == null ? "" : t.name());
        block.putObject("input");
        events.add(blockStart(index, block));
      }
      if (!t.argumentsDelta().isEmpty()) {
        events.add(delta(index, Json.object().put("type", "input_json_delta").put("partial_json", t.argumentsDelta())));
      }
    }
    for (int i = 0; i < events.size(); i++) {
      String[] e = events.get(i);
      out.add(event(e[0], e[1], i == events.size() - 1 ? j.seq() : -1));
    }
    return out;
  }

  @Override
  public List<ByteString> finish() {
    List<ByteString> out = new ArrayList<>(4);
    start(out);
    List<String[]> events = new ArrayList<>();
    closeRun(events);
    openTools.values().forEach(index -> events.add(stop(index)));
    openTools.clear();
    ObjectNode delta = Json.object().put("type", "message_delta");
    delta.putObject("delta").put("stop_reason", MessagesCodec.stopReason(finish)).putNull("stop_sequence");
    delta.set("usage", MessagesCodec.usage(usage));
    events.add(new String[] {"message_delta", Json.write(delta)});
    events.add(new String[] {"message_stop", "{\"type\":\"message_stop\"}"});
    events.forEach(e -> out.add(event(e[0], e[1], -1)));
    return out;
  }

  @Override
  public ByteString error(Throwable error) {
    LlmException e = ErrorResponses.unwrap(error);
    int status = MessagesCodec.status(e);
    return event("error", MessagesCodec.writeError(MessagesCodec.errorType(status), e.getMessage()), -1);
  }

  @Override
  public HttpResponse errorResponse(Throwable error) {
    return ErrorResponses.anthropic(error);
  }

  /** message_start and a ping, once, before anything else. */
  private void start(List<ByteString> out) {
    if (started) {
      return;
    }
    started = true;
    ObjectNode message = MessagesCodec.messageHeader(id, modelSource.get());
    message.putArray("content");
    message.putNull("stop_reason");
    message.putNull("stop_sequence");
    // The input count is not known yet for most providers; message_delta carries the whole usage at the end.
    message.putObject("usage").put("input_tokens", 0).put("output_tokens", 0);
    ObjectNode start = Json.object().put("type", "message_start");
    start.set("message", message);
    out.add(event("message_start", Json.write(start), -1));
    out.add(PING);
  }

  /** The index of the open {@code kind} block, opening it (and closing what is open) when needed. */
  private int run(String kind, List<String[]> events) {
    if (kind.equals(runKind)) {
      return runIndex;
    }
    closeRun(events);
    openTools.values().forEach(index -> events.add(stop(index)));
    openTools.clear();
    runKind = kind;
    runIndex = nextIndex++;
    ObjectNode block = Json.object().put("type", kind);
    if (kind.equals("text")) {
      block.put("text", "");
    } else {
      block.put("thinking", "").put("signature", "");
    }
    events.add(blockStart(runIndex, block));
    return runIndex;
  }

  private void closeRun(List<String[]> events) {
    if (runKind != null) {
      events.add(stop(runIndex));
      runKind = null;
    }
  }

  private static String[] blockStart(int index, ObjectNode block) {
    ObjectNode e = Json.object().put("type", "content_block_start").put("index", index);
    e.set("content_block", block);
    return new String[] {"content_block_start", Json.write(e)};
  }

  private static String[] delta(int index, ObjectNode delta) {
    ObjectNode e = Json.object().put("type", "content_block_delta").put("index", index);
    e.set("delta", delta);
    return new String[] {"content_block_delta", Json.write(e)};
  }

  private static String[] stop(int index) {
    return new String[] {"content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}"};
  }

  /** One SSE event; compact JSON never holds a raw newline, so one data: line is exact. {@code seq} < 1: no id. */
  private static ByteString event(String type, String json, long seq) {
    return ByteString.fromString((seq > 0 ? "id: " + seq + "\n" : "") + "event: " + type + "\ndata: " + json + "\n\n");
  }
}
