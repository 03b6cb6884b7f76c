package io.pekkollm.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.provider.StreamDecoder;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code GenerateContentResponse}s: each SSE event of {@code streamGenerateContent?alt=sse} is one, and
 * a non-streamed answer is one too, so both go through {@link #read(JsonNode)}.
 *
 * <p>Gemini sends no {@code [DONE]}: the answer is complete once a candidate carries a {@code finishReason}
 * (or the prompt was blocked). Usage is cumulative and may come with every event. Function calls arrive whole,
 * with object arguments (serialized here to JSON text) and no id, so ids are made up: from the response id and
 * the call's position when Gemini gives a {@code responseId} (the same bytes give the same ids), random
 * otherwise, with the call's {@code thoughtSignature} appended (see {@link GeminiMapper#callId}). Parts marked
 * {@code thought} are reasoning. An {@code {"error": ...}} event fails the stream.
 *
 * <p>Gemini 1.0 put {@code finishReason: STOP} on every event, and usage is cumulative: while streaming, the
 * finish reason and usage are held back and sent once, in a last chunk when the stream ends.
 *
 * <p>One per response; not thread-safe.
 */
final class GeminiStreamDecoder implements StreamDecoder {
  private final String provider;
  private int calls;
  private boolean complete;
  private FinishReason finish;
  private io.pekkollm.model.Usage usage;

  GeminiStreamDecoder(String provider) {
    this.provider = provider;
  }

  @Override
  public List<ChatChunk> onFrame(String eventType, String data) {
    JsonNode node;
    try {
      node = Json.parse(data);
    } catch (java.io.IOException e) {
      throw ErrorClassifier.malformed(provider, "stream event is not JSON: " + e.getMessage(), data, e);
    }
    if (node == null || !node.isObject()) {
      throw ErrorClassifier.malformed(provider, "stream event is not a JSON object", data, null);
    }
    if (node.has("error")) {
      throw ErrorClassifier.midStream(provider, GeminiMapper.errorDetails(data), data);
    }
    List<ChatChunk> read = read(node);
    if (read.isEmpty()) {
      return read;
    }
    ChatChunk c = read.get(0);
    if (c.finishReason() != null) {
      finish = c.finishReason();
    }
    if (c.usage() != null) {
      usage = c.usage();
    }
    ChatChunk content = new ChatChunk(c.id(), c.model(), c.textDelta(), c.reasoningDelta(), c.toolCalls(), null, null);
    return content.isEmpty() ? List.of() : List.of(content);
  }

  @Override
  public List<ChatChunk> onEnd() {
    return finish == null && usage == null ? List.of() : List.of(ChatChunk.finish(finish, usage));
  }

  /** Reads one response object into at most one chunk. */
  List<ChatChunk> read(JsonNode response) {
    String id = Json.text(response, "responseId");
    String model = Json.text(response, "modelVersion");
    JsonNode candidate = response.path("candidates").path(0);
    StringBuilder text = null;
    StringBuilder thought = null;
    List<ToolCallDelta> toolCalls = new ArrayList<>();
    for (JsonNode part : candidate.path("content").path("parts")) {
      JsonNode fc = part.get("functionCall");
      if (fc != null && fc.isObject()) {
        JsonNode args = fc.get("args");
        toolCalls.add(new ToolCallDelta(calls, GeminiMapper.callId(id, calls, Json.text(part, "thoughtSignature")),
            Json.text(fc, "name"),
            args == null || args.isNull() ? "{}" : Json.write(args)));
        calls++;
        continue;
      }
      String t = Json.text(part, "text");
      if (t == null || t.isEmpty()) {
        continue;
      }
      if (part.path("thought").asBoolean(false)) {
        thought = thought == null ? new StringBuilder() : thought;
        thought.append(t);
      } else {
        text = text == null ? new StringBuilder() : text;
        text.append(t);
      }
    }
    FinishReason finish = GeminiMapper.finishReason(Json.text(candidate, "finishReason"), calls > 0);
    if (finish == null && candidate.isMissingNode() && Json.text(response.path("promptFeedback"), "blockReason") != null) {
      // The prompt itself was blocked: no candidates at all, only promptFeedback.blockReason.
      finish = FinishReason.CONTENT_FILTER;
    }
    if (finish != null) {
      complete = true;
    }
    ChatChunk chunk = new ChatChunk(id, model, text == null ? null : text.toString(),
        thought == null ? null : thought.toString(), toolCalls, finish, GeminiMapper.usage(response.get("usageMetadata")));
    return chunk.isEmpty() ? List.of() : List.of(chunk);
  }

  @Override
  public boolean isComplete() {
    return complete;
  }
}
