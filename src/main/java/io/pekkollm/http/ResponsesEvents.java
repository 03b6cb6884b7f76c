package io.pekkollm.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.Cost;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.Usage;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;

/**
 * The Responses API's event stream for one response: {@code response.created} and {@code response.in_progress},
 * then per output item {@code response.output_item.added}, for a message {@code response.content_part.added},
 * {@code response.output_text.delta}s, {@code .done} and {@code response.content_part.done}, for a function call
 * {@code response.function_call_arguments.delta}s and {@code .done}, then {@code response.output_item.done}; a
 * stream ends with {@code response.completed} (status incomplete when the token limit cut it), or, interrupted,
 * with {@code error} and {@code response.failed}. Every event is {@code event: <type>} plus its JSON, numbered by
 * {@code sequence_number} from 0; the last event of each chunk also carries {@code id: <seq>}, the journal's
 * sequence, which SSE clients ignore or send back as Last-Event-ID to a resume. Used by one stream at a time.
 */
final class ResponsesEvents implements SseResponses.EventEncoder {
  private final String id;
  private final long createdAt;
  private final ResponsesCodec.Parsed parsed;
  private final Supplier<String> modelSource;
  private final BiFunction<String, Usage, Cost> pricing;
  private final Consumer<ObjectNode> onCompleted;
  /** The text the first message starts with (a resume's kept text), "" once used or for a new stream. */
  private String keptText;
  private final ArrayNode output = Json.MAPPER.createArrayNode();
  private final Map<Integer, Integer> toolItems = new java.util.LinkedHashMap<>();
  private final Map<Integer, StringBuilder> toolArguments = new HashMap<>();
  private int sequence;
  private boolean started;
  private int messageIndex = -1;
  private StringBuilder messageText;
  private String messageId;
  private String model;
  private String providerModel;
  private Usage usage;
  private FinishReason finish;

  /**
   * Events of response {@code id}; {@code model} names the serving model when first needed, {@code pricing}
   * prices the usage, {@code onCompleted} gets the final response object before {@code response.completed} is
   * written (to store it).
   */
  ResponsesEvents(String id, long createdAt, ResponsesCodec.Parsed parsed, Supplier<String> model,
      BiFunction<String, Usage, Cost> pricing, Consumer<ObjectNode> onCompleted) {
    this(id, createdAt, parsed, model, pricing, onCompleted, "");
  }

  /**
   * As above, for a resumed stream whose client keeps {@code keptText}: the first message's text (its
   * {@code .done} events, the completed response) starts with it; the deltas carry only what follows.
   */
  ResponsesEvents(String id, long createdAt, ResponsesCodec.Parsed parsed, Supplier<String> model,
      BiFunction<String, Usage, Cost> pricing, Consumer<ObjectNode> onCompleted, String keptText) {
    this.keptText = keptText == null ? "" : keptText;
    this.id = id;
    this.createdAt = createdAt;
    this.parsed = parsed;
    this.modelSource = model;
    this.pricing = pricing;
    this.onCompleted = onCompleted;
  }

  @Override
  public List<ByteString> encode(JournaledChunk j) {
    List<ByteString> out = encodeChunk(j);
    if (j.seq() > 0 && !out.isEmpty()) {
      // The last event of a chunk carries the journal's sequence: what a client sends back as Last-Event-ID.
      int last = out.size() - 1;
      out.set(last, ByteString.fromString("id: " + j.seq() + "\n").concat(out.get(last)));
    }
    return out;
  }

  private List<ByteString> encodeChunk(JournaledChunk j) {
    List<ByteString> out = new ArrayList<>(4);
    if (!started) {
      started = true;
      // One response object, written once, in both events.
      String r = Json.write(response("in_progress", Json.MAPPER.createArrayNode(), null, null));
      out.add(written("response.created", g -> {
        g.writeFieldName("response");
        g.writeRawValue(r);
      }));
      out.add(written("response.in_progress", g -> {
        g.writeFieldName("response");
        g.writeRawValue(r);
      }));
    }
    ChatChunk c = j.chunk();
    if (c == null) {
      return out;
    }
    if (c.usage() != null) {
      usage = usage == null ? c.usage() : usage.merge(c.usage());
    }
    if (providerModel == null && c.model() != null) {
      providerModel = c.model();
    }
    if (c.finishReason() != null) {
      finish = c.finishReason();
    }
    if (c.textDelta() != null && !c.textDelta().isEmpty()) {
      if (messageIndex < 0) {
        openMessage(out);
      }
      messageText.append(c.textDelta());
      // The hot path: one event per chunk, written straight to bytes (no JSON tree).
      String text = c.textDelta();
      out.add(written("response.output_text.delta", g -> {
        g.writeStringField("item_id", messageId);
        g.writeNumberField("output_index", messageIndex);
        g.writeNumberField("content_index", 0);
        g.writeStringField("delta", text);
        g.writeArrayFieldStart("logprobs");
        g.writeEndArray();
      }));
    }
    for (ToolCallDelta d : c.toolCalls()) {
      Integer index = toolItems.get(d.index());
      if (index == null) {
        closeMessage(out);
        index = output.size();
        String callId = d.id() == null ? ResponsesCodec.newId("call") : d.id();
        output.add(ResponsesCodec.functionCallItem(ResponsesCodec.newId("fc"), callId,
            d.name() == null ? "" : d.name(), "", "in_progress"));
        toolItems.put(d.index(), index);
        toolArguments.put(d.index(), new StringBuilder());
        out.add(event("response.output_item.added", Json.object().put("output_index", index)
            .set("item", output.get(index))));
      }
      if (d.argumentsDelta() != null && !d.argumentsDelta().isEmpty()) {
        toolArguments.get(d.index()).append(d.argumentsDelta());
        String itemId = output.get(index).path("id").asText();
        int outputIndex = index;
        String args = d.argumentsDelta();
        out.add(written("response.function_call_arguments.delta", g -> {
          g.writeStringField("item_id", itemId);
          g.writeNumberField("output_index", outputIndex);
          g.writeStringField("delta", args);
        }));
      }
    }
    return out;
  }

  private void openMessage(List<ByteString> out) {
    messageIndex = output.size();
    messageText = new StringBuilder(keptText);
    keptText = "";
    messageId = ResponsesCodec.newId("msg");
    output.add(ResponsesCodec.messageItem(messageId, null, "in_progress"));
    out.add(event("response.output_item.added", Json.object().put("output_index", messageIndex)
        .set("item", output.get(messageIndex))));
    out.add(event("response.content_part.added", itemRef(messageIndex).put("content_index", 0)
        .set("part", ResponsesCodec.textPart(""))));
  }

  /** Ends the open message item, if any: its text, part and item are done. */
  private void closeMessage(List<ByteString> out) {
    if (messageIndex < 0) {
      return;
    }
    String text = messageText.toString();
    ObjectNode item = (ObjectNode) output.get(messageIndex);
    item.put("status", "completed");
    ((ArrayNode) item.get("content")).add(ResponsesCodec.textPart(text));
    out.add(event("response.output_text.done", itemRef(messageIndex).put("content_index", 0).put("text", text)
        .set("logprobs", Json.MAPPER.createArrayNode())));
    out.add(event("response.content_part.done", itemRef(messageIndex).put("content_index", 0)
        .set("part", ResponsesCodec.textPart(text))));
    out.add(event("response.output_item.done", Json.object().put("output_index", messageIndex)
        .set("item", item)));
    messageIndex = -1;
  }

  @Override
  public List<ByteString> finish() {
    List<ByteString> out = new ArrayList<>();
    if (!started) {
      out.addAll(encodeChunk(new JournaledChunk(-1, null)));
    }
    closeMessage(out);
    if (output.isEmpty() || !keptText.isEmpty()) {
      // An answer with nothing in it is still one (empty) message, as a whole answer would be; a resumed one whose
      // continuation has no text still holds the text kept.
      openMessage(out);
      closeMessage(out);
    }
    toolItems.forEach((toolIndex, index) -> {
      ObjectNode item = (ObjectNode) output.get(index);
      String args = toolArguments.get(toolIndex).toString();
      item.put("arguments", args).put("status", "completed");
      out.add(event("response.function_call_arguments.done", itemRef(index).put("name", item.path("name").asText())
          .put("arguments", args)));
      out.add(event("response.output_item.done", Json.object().put("output_index", index).set("item", item)));
    });
    ObjectNode r = response("completed", output, usage, ResponsesCodec.incompleteReason(finish));
    onCompleted.accept(r);
    out.add(event("response.completed", Json.object().set("response", r)));
    return out;
  }

  @Override
  public ByteString error(Throwable error) {
    LlmException e = ErrorResponses.unwrap(error);
    String code = e.errorCode() != null ? e.errorCode() : e.kind().name().toLowerCase();
    ObjectNode err = Json.object().put("code", code).put("message", e.getMessage());
    ByteString first = event("error", Json.object().put("code", code).put("message", e.getMessage())
        .put("param", e.param()));
    ObjectNode r = response("failed", output, usage, null);
    r.set("error", err);
    return first.concat(event("response.failed", Json.object().set("response", r)));
  }

  @Override
  public HttpResponse errorResponse(Throwable error) {
    return ErrorResponses.of(error);
  }

  private ObjectNode response(String status, ArrayNode items, Usage u, String incomplete) {
    return ResponsesCodec.response(id, createdAt, status, model(), parsed, items.deepCopy(), u,
        u == null ? null : pricing.apply(providerModel, u), null, incomplete);
  }

  private ObjectNode itemRef(int index) {
    return Json.object().put("item_id", output.get(index).path("id").asText()).put("output_index", index);
  }

  /** An event whose fields (after {@code type}, before {@code sequence_number}) are those of {@code body}. */
  private ByteString event(String type, ObjectNode body) {
    return written(type, g -> {
      java.util.Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = body.fields();
      while (it.hasNext()) {
        Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> f = it.next();
        g.writeFieldName(f.getKey());
        g.writeTree(f.getValue());
      }
    });
  }

  /**
   * The event {@code type}: {@code event: <type>} and one data line, {@code {"type", <fields>, "sequence_number"}},
   * generated straight into the event's bytes. Compact JSON never holds a raw newline: one data line is exact SSE.
   */
  private ByteString written(String type, ChatCompletionsCodec.Writer fields) {
    org.apache.pekko.util.ByteStringBuilder b = new org.apache.pekko.util.ByteStringBuilder();
    b.putBytes(("event: " + type + "\ndata: ").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    try (com.fasterxml.jackson.core.JsonGenerator g = Json.MAPPER.getFactory().createGenerator(b.asOutputStream())) {
      g.writeStartObject();
      g.writeStringField("type", type);
      fields.write(g);
      g.writeNumberField("sequence_number", sequence++);
      g.writeEndObject();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    b.putBytes(EVENT_END);
    return b.result();
  }

  private static final byte[] EVENT_END = {'\n', '\n'};

  private String model() {
    if (model == null) {
      model = modelSource.get();
    }
    return model;
  }
}
