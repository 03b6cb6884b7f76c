package io.pekkollm.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Cost;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.recovery.ResumedStream;
import io.pekkollm.recovery.ResumeStrategy;
import io.pekkollm.recovery.StreamSnapshot;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Journalled streams: {@code GET /v1/streams/{id}} (status, partial text, usage, interruption) and
 * {@code POST /v1/streams/{id}/resume} (body {@code {"strategy", "model"?}}, honouring {@code Last-Event-ID}),
 * which answers SSE starting with an {@code event: recovery} event, then in the wire format the stream was started
 * in ({@link StreamOrigin}: Chat Completions, Anthropic Messages or Responses events). A malformed or unknown id is a
 * 404, and so is another virtual key's stream ({@link GatewayAuth.Caller#canSee}); errors before the resume's stream
 * (404, 409) are OpenAI's error body, as for every {@code /v1/streams} route, and after it the format's own error
 * event. A resume is charged to the key that started the stream ({@link GatewayAuth#admitFor}).
 */
final class StreamRoutes {
  private final LlmClient client;
  private final RequestBodies bodies;
  private final SseResponses sse;
  private final GatewayAuth auth;

  private final ResponsesRoutes responses;

  StreamRoutes(LlmClient client, RequestBodies bodies, SseResponses sse, ResponsesRoutes responses, GatewayAuth auth) {
    this.auth = auth;
    this.responses = responses;
    this.client = client;
    this.bodies = bodies;
    this.sse = sse;
  }

  CompletionStage<HttpResponse> resume(String id, HttpRequest req) {
    Long lastEventId;
    try {
      lastEventId = req.getHeader("Last-Event-ID").map(h -> Long.parseLong(h.value().trim())).orElse(null);
    } catch (NumberFormatException e) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "Last-Event-ID must be the id of the last event received (a number)", "Last-Event-ID"));
    }
    return bodies.readJson(req)
        .thenCompose(body -> {
          if (!body.isObject()) {
            throw LlmException.invalidRequest("the body must be a JSON object like {\"strategy\": \"exact\"}", null);
          }
          JsonNode s = body.get("strategy");
          if (s != null && !s.isNull() && !s.isTextual()) {
            throw LlmException.invalidRequest("'strategy' must be exact, paragraph or summarize", "strategy");
          }
          ResumeStrategy strategy = ResumeStrategy.of(s == null || s.isNull() ? null : s.asText());
          JsonNode m = body.get("model");
          if (m != null && !m.isNull() && !m.isTextual()) {
            throw LlmException.invalidRequest("'model' must be a string (provider/model)", "model");
          }
          String model = m == null || m.isNull() ? null : m.asText();
          // A resumed stream is charged to the key that started it, on the stream's model unless the body names
          // another; another key's stream is unknown to this caller.
          GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
          CompletionStage<Optional<StreamSnapshot>> found = caller.key() == null && !auth.keysEnabled()
              ? CompletableFuture.completedFuture(Optional.empty()) : client.streamStatus(id);
          String[] owner = new String[1];
          return found.thenCompose(st -> {
                owner[0] = st.map(StreamSnapshot::owner).orElse(null);
                if (st.isPresent() && !caller.canSee(st.get().owner())) {
                  throw unknown(id);
                }
                if (caller.key() != null && st.isEmpty()) {
                  throw unknown(id);
                }
                String cm = model != null ? model : st.map(StreamSnapshot::model).orElse(null);
                return cm == null ? CompletableFuture.completedFuture(GatewayAuth.Charge.NONE)
                    : auth.admitFor(caller, st.map(StreamSnapshot::owner).orElse(null), cm);
              })
              .thenCompose(charge -> {
                // The continuation's attempts are traced under this request's span (the client keeps the context
                // it is called in for the continuation, which starts later).
                CompletionStage<ResumedStream> resumed;
                try (var scope = GatewayTracing.enter(GatewayTracing.of(req))) {
                  resumed = client.resume(id, strategy, model, lastEventId);
                }
                return resumed.whenComplete((r, err) -> {
                      if (err != null) {
                        charge.settle(model, null, 0);
                      }
                    })
                    .thenCompose(r -> respond(r, charge, owner[0]));
              });
        })
        .exceptionally(ErrorResponses::of);
  }

  /**
   * The resume as SSE in the format the stream was started in ({@link StreamOrigin}): Chat Completions chunks
   * ending with {@code [DONE]}, Anthropic's Messages events (a new message_start with the same message id, ending
   * with message_stop), or the Responses events of the same response (ending with response.completed); in each,
   * the {@code event: recovery} event comes first.
   */
  private CompletionStage<HttpResponse> respond(ResumedStream r, GatewayAuth.Charge charge, String owner) {
    StreamOrigin origin = StreamOrigin.read(r.origin());
    CompletionStage<SseResponses.EventEncoder> encoder = switch (origin.format()) {
      case StreamOrigin.MESSAGES -> CompletableFuture.completedFuture(new MessagesEvents(origin.id(), r::model));
      case StreamOrigin.RESPONSES -> responses.resumedEvents(origin, r, owner);
      default -> CompletableFuture.completedFuture(new ChatCompletionsEvents(ResponseHeaders.newId(), r::model,
          ResponseHeaders.nowSeconds(), false, (providerModel, usage) -> null));
    };
    return encoder.thenCompose(events -> respond(r, charge, events, origin));
  }

  private CompletionStage<HttpResponse> respond(ResumedStream r, GatewayAuth.Charge charge,
      SseResponses.EventEncoder events, StreamOrigin origin) {
    ObjectNode info = Json.object().put("recovery_id", r.recoveryId()).put("strategy", r.strategy().wireName())
        .put("kept_chars", r.keptChars()).put("discarded_chars", r.discardedChars())
        .put("model", r.model()).put("attempt", r.attempt()).put("format", origin.format());
    ByteString first = ByteString.fromString("event: recovery\ndata: " + Json.write(info) + "\n\n");
    SseResponses.Metered<Object> metered = (h, providerModel, usage) -> charge.settle(r.model(),
        usage == null ? null : client.cost(r.model(), providerModel, usage).map(Cost::total).orElse(null),
        usage == null ? 0 : usage.totalTokens());
    return sse.respond(Source.<JournaledChunk>single(new JournaledChunk(-1, null)).concat(r.chunks())
        .mapMaterializedValue(x -> (Object) x), events, List.of(first), x -> r.recoveryId(),
        x -> List.<HttpHeader>of(), metered);
  }

  private static LlmException unknown(String id) {
    return new LlmException(ErrorKind.NOT_FOUND, "no stream with recovery id '" + id + "'", null, false,
        "recovery_id");
  }

  /** {@code GET /v1/streams/{id}}: 404 for an unknown stream and for one {@code caller} may not see. */
  CompletionStage<HttpResponse> status(String id, GatewayAuth.Caller caller) {
    return statusJson(id, caller).thenApply(opt -> opt.isEmpty()
        ? ErrorResponses.simple(ErrorKind.NOT_FOUND, 404, "no stream with recovery id '" + id + "'", "recovery_id")
        : HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(opt.get())));
  }

  /** The status body of stream {@code id} ({@code GET /v1/streams/{id}}), empty when the journal has none. */
  CompletionStage<java.util.Optional<ObjectNode>> statusJson(String id) {
    return statusJson(id, GatewayAuth.Caller.OPEN);
  }

  /** As {@link #statusJson(String)}, empty too for another virtual key's stream. */
  CompletionStage<java.util.Optional<ObjectNode>> statusJson(String id, GatewayAuth.Caller caller) {
    return client.streamStatus(id).thenApply(opt -> opt.filter(s -> caller.canSee(s.owner())).map(s -> {
      ObjectNode o = Json.object().put("recovery_id", s.recoveryId()).put("status", s.status())
          .put("provider", s.provider()).put("model", s.model()).put("attempt", s.attempt()).put("text", s.text())
          .put("last_event_id", s.lastSeq()).put("finish_reason", s.finishReason())
          .put("started_at_ms", s.startedAtMillis()).put("updated_at_ms", s.updatedAtMillis())
          .put("format", StreamOrigin.read(s.origin()).format());
      if (s.usage() != null) {
        o.putObject("usage").put("prompt_tokens", s.usage().inputTokens())
            .put("completion_tokens", s.usage().outputTokens()).put("total_tokens", s.usage().totalTokens());
      }
      if (s.status().equals("interrupted")) {
        o.putObject("interruption").put("cause", s.cause()).put("kind", s.errorKind())
            .put("recoverable", s.recoverable()).put("cancelled", s.cancelled());
      }
      return o;
    }));
  }
}
