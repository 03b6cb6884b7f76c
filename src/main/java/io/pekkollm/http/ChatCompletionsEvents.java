package io.pekkollm.http;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.Cost;
import io.pekkollm.model.Usage;
import io.pekkollm.recovery.JournaledChunk;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;

/**
 * Chat Completions' SSE events: one {@code chat.completion.chunk} per chunk with content, numbered {@code id: <seq>}
 * with the journal's sequence (what a client sends back as Last-Event-ID), the usage chunk when the client asked
 * for it ({@code stream_options.include_usage}), then {@code data: [DONE]}; an interruption is a final
 * {@code data: {"error": ...}} event, as OpenAI sends.
 */
final class ChatCompletionsEvents implements SseResponses.EventEncoder {
  private static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");

  private final String id;
  private final Supplier<String> modelSource;
  private final long created;
  private final boolean includeUsage;
  private final BiFunction<String, Usage, Cost> pricing;
  private boolean first = true;
  private String model;
  private String providerModel;
  private Usage usage;

  /**
   * Events of the completion {@code id}, named after the model {@code model} gives when the first event is written
   * (a group's serving member is known by then); {@code pricing} prices the usage chunk from the provider's model
   * id (null when the upstream named none) and the usage (null when not priced).
   */
  ChatCompletionsEvents(String id, Supplier<String> model, long created, boolean includeUsage,
      BiFunction<String, Usage, Cost> pricing) {
    this.id = id;
    this.modelSource = model;
    this.created = created;
    this.includeUsage = includeUsage;
    this.pricing = pricing;
  }

  private static final ChatChunk ROLE_ONLY = ChatChunk.text("");

  @Override
  public List<ByteString> encode(JournaledChunk j) {
    if (j.chunk() == null) {
      // The marker that lets a resume answer (headers and its recovery event) before the first new chunk.
      return List.of();
    }
    ChatChunk c = j.chunk();
    if (c.usage() != null) {
      usage = usage == null ? c.usage() : usage.merge(c.usage());
    }
    if (providerModel == null && c.model() != null) {
      providerModel = c.model();
    }
    boolean hasContent = (c.textDelta() != null && !c.textDelta().isEmpty())
        || (c.reasoningDelta() != null && !c.reasoningDelta().isEmpty()) || !c.toolCalls().isEmpty()
        || c.finishReason() != null;
    if (!hasContent && !first) {
      return List.of();
    }
    // The first chunk goes out at once even when it carries nothing but the role (OpenAI-compatible upstreams send
    // such a chunk as soon as they accept the request): holding it for the first content would add the upstream's
    // whole time to first token to the caller's time to first event. It reads as OpenAI's own first chunk,
    // {"role":"assistant","content":""}.
    String json = ChatCompletionsCodec.writeChunk(hasContent ? c : ROLE_ONLY, id, model(), created, first);
    first = false;
    // Compact JSON never contains a raw newline, so one data: line per event is exact SSE.
    // A chunk without content (the role-only first one) has sequence number 0: a Last-Event-ID of 0 resumes from
    // the beginning, which is right for a client that has nothing else.
    return List.of(ByteString.fromString("id: " + j.seq() + "\ndata: " + json + "\n\n"));
  }

  @Override
  public List<ByteString> finish() {
    if (includeUsage && usage != null) {
      return List.of(ByteString.fromString("data: " + ChatCompletionsCodec.writeUsageChunk(usage,
          pricing.apply(providerModel, usage), id, model(), created) + "\n\n"), DONE);
    }
    return List.of(DONE);
  }

  @Override
  public ByteString error(Throwable error) {
    return ByteString.fromString("data: " + ErrorResponses.body(ErrorResponses.unwrap(error)) + "\n\n");
  }

  @Override
  public HttpResponse errorResponse(Throwable error) {
    return ErrorResponses.of(error);
  }

  private String model() {
    if (model == null) {
      model = modelSource.get();
    }
    return model;
  }
}
