package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.recovery.ResumedStream;
import io.pekkollm.responses.StoredResponse;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * OpenAI's Responses API over any provider: {@code POST /v1/responses} (a JSON answer, or with
 * {@code stream: true} the Responses event stream of {@link ResponsesEvents}), {@code GET /v1/responses/{id}} and
 * {@code DELETE /v1/responses/{id}}. A response is stored unless {@code store: false} (in
 * {@link io.pekkollm.responses.ResponseStore}, on the journal), and {@code previous_response_id} continues the
 * conversation a stored response ends; an unknown one is a 404 naming {@code previous_response_id}. Requests are
 * translated by {@link ResponsesCodec} and run through the client like chat completions (streams journalled,
 * with {@code X-Recovery-Id}).
 */
final class ResponsesRoutes {
  private final LlmClient client;
  private final RequestBodies bodies;
  private final SseResponses sse;

  ResponsesRoutes(LlmClient client, RequestBodies bodies, SseResponses sse) {
    this.client = client;
    this.bodies = bodies;
    this.sse = sse;
  }

  Route route() {
    return concat(
        path("responses", () -> post(() -> extractRequest(req -> completeWithFuture(create(req))))),
        path(segment("responses").slash(segment()), id -> concat(
            get(() -> extractRequest(req -> completeWithFuture(retrieve(id, GatewayAuth.Caller.of(req))))),
            delete(() -> extractRequest(req -> completeWithFuture(remove(id, GatewayAuth.Caller.of(req))))))));
  }

  CompletionStage<HttpResponse> create(HttpRequest req) {
    GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
    GatewayTracing.Trace trace = GatewayTracing.of(req);
    return bodies.read(req).thenCompose(body -> handleBody(body, caller, trace)).exceptionally(ErrorResponses::of);
  }

  private CompletionStage<HttpResponse> handleBody(ByteString body, GatewayAuth.Caller caller,
      GatewayTracing.Trace trace) {
    ResponsesCodec.Parsed parsed;
    JsonNode json;
    try {
      if (body.isEmpty()) {
        throw LlmException.invalidRequest("the request body is empty: send a JSON object with 'model' and 'input'",
            null);
      }
      json = RequestBodies.json(body);
      parsed = ResponsesCodec.readRequest(json);
    } catch (LlmException e) {
      return CompletableFuture.completedFuture(ErrorResponses.of(e));
    }
    return history(parsed.previousResponseId(), caller).thenCompose(history -> {
      ChatRequest request = caller.own(ResponsesCodec.chatRequest(parsed, history));
      return caller.admit(request.model()).thenCompose(charge -> {
        try (var scope = GatewayTracing.enter(trace)) {
          return parsed.stream() ? streamed(parsed, json, request, history, charge, caller.owner())
              : whole(parsed, request, history, charge, caller.owner());
        }
      });
    });
  }

  /**
   * The events of the resumed stream {@code r}, started as the response {@code origin} names: the same response id
   * and echoed fields, the message's text and the stored response (when the request stored) whole, the kept text
   * followed by the continuation. A previous response deleted since is no longer part of the stored conversation.
   */
  CompletionStage<SseResponses.EventEncoder> resumedEvents(StreamOrigin origin, ResumedStream r, String owner) {
    ResponsesCodec.Parsed parsed;
    try {
      parsed = ResponsesCodec.readRequest(origin.request());
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(new LlmException(ErrorKind.INTERNAL, "the journalled Responses request of "
          + "stream " + r.recoveryId() + " cannot be read: " + e.getMessage()));
    }
    return history(parsed.previousResponseId(), GatewayAuth.Caller.OPEN)
        .exceptionally(e -> Json.MAPPER.createArrayNode())
        .thenApply(history -> events(origin.id(), origin.createdAt(), parsed, history, r::model, r.keptText(), owner));
  }

  /**
   * The event encoder of response {@code id}: named after {@code served}'s model, priced, and stored on completion
   * when the request stores, owned by {@code owner} (a virtual key id, or null); its message text starts with
   * {@code keptText} ("" for a new stream).
   */
  private ResponsesEvents events(String id, long createdAt, ResponsesCodec.Parsed parsed, ArrayNode history,
      Supplier<String> served, String keptText, String owner) {
    return new ResponsesEvents(id, createdAt, parsed, served,
        (providerModel, usage) -> client.cost(served.get(), providerModel, usage).orElse(null),
        completed -> {
          if (parsed.store()) {
            // Registered before response.completed is written: a read of this id waits for the write.
            store(id, Json.write(completed),
                ResponsesCodec.conversation(history, parsed, (ArrayNode) completed.get("output")), owner);
          }
        }, keptText);
  }

  /**
   * The conversation the previous response ends (empty without one); a 404 for an unknown id or one that
   * {@code caller} may not see (another key's).
   */
  private CompletionStage<ArrayNode> history(String previousId, GatewayAuth.Caller caller) {
    if (previousId == null) {
      return CompletableFuture.completedFuture(Json.MAPPER.createArrayNode());
    }
    return client.responses().get(previousId).thenApply(found -> {
      StoredResponse s = found.filter(r -> caller.canSee(r.owner())).orElseThrow(() -> new LlmException(ErrorKind.NOT_FOUND, "Previous response with id '"
          + previousId + "' not found.", null, false, "previous_response_id"));
      try {
        return (ArrayNode) Json.parse(s.conversationJson());
      } catch (java.io.IOException e) {
        throw new IllegalStateException("stored response '" + previousId + "' is not JSON", e);
      }
    });
  }

  private CompletionStage<HttpResponse> whole(ResponsesCodec.Parsed parsed, ChatRequest request, ArrayNode history,
      GatewayAuth.Charge charge, String owner) {
    String id = ResponsesCodec.newId("resp");
    long created = ResponseHeaders.nowSeconds();
    return client.chat(request).handle((resp, err) -> GatewayAuth.Charge.after(
            ChatCompletionRoutes.settle(charge, request.model(), resp), resp, err))
        .thenCompose(charged -> charged)
        .thenCompose(resp -> {
      ArrayNode output = ResponsesCodec.outputItems(resp);
      ObjectNode r = ResponsesCodec.response(id, created, "completed", resp.model(), parsed, output, resp.usage(),
          resp.cost().orElse(null), null, ResponsesCodec.incompleteReason(resp.finishReason()));
      String json = Json.write(r);
      CompletionStage<?> stored = parsed.store()
          ? store(id, json, ResponsesCodec.conversation(history, parsed, output), owner)
          : CompletableFuture.completedFuture(null);
      return stored.thenApply(done -> HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json)
          .addHeader(RawHeader.create("X-Served-Model", resp.model())));
    });
  }

  private CompletionStage<HttpResponse> streamed(ResponsesCodec.Parsed parsed, JsonNode body, ChatRequest request,
      ArrayNode history, GatewayAuth.Charge charge, String owner) {
    AtomicReference<ChatStream> handleRef = new AtomicReference<>();
    Supplier<String> served = () -> {
      ChatStream h = handleRef.get();
      return h == null ? request.model() : h.servedModel().orElse(request.model());
    };
    String id = ResponsesCodec.newId("resp");
    long createdAt = ResponseHeaders.nowSeconds();
    ResponsesEvents events = events(id, createdAt, parsed, history, served, "", owner);
    String origin = StreamOrigin.responses(id, createdAt, body);
    Source<JournaledChunk, ChatStream> source = client.streamJournaled(request, origin).mapMaterializedValue(h -> {
      handleRef.set(h);
      return h;
    });
    return sse.respond(source, events, List.of(), ChatStream::recoveryId,
        handle -> List.of(RawHeader.create("X-Served-Model", served.get())),
        SseResponses.metered(client, charge, request.model()));
  }

  private CompletionStage<?> store(String id, String json, ArrayNode conversation, String owner) {
    return client.responses().put(new StoredResponse(id, json, Json.write(conversation), System.currentTimeMillis(),
        owner));
  }

  private CompletionStage<HttpResponse> retrieve(String id, GatewayAuth.Caller caller) {
    return client.responses().get(id).handle((found, err) -> {
      if (err != null) {
        return ErrorResponses.of(err);
      }
      return found.filter(s -> caller.canSee(s.owner())).map(s -> HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, s.responseJson()))
          .orElseGet(() -> notFound(id));
    });
  }

  private CompletionStage<HttpResponse> remove(String id, GatewayAuth.Caller caller) {
    // Another key's response is answered as unknown, and left alone.
    CompletionStage<Boolean> deletion = caller.key() == null ? client.responses().delete(id)
        : client.responses().get(id).thenCompose(found -> found.filter(s -> caller.canSee(s.owner())).isPresent()
            ? client.responses().delete(id) : CompletableFuture.completedFuture(false));
    return deletion.handle((deleted, err) -> {
      if (err != null) {
        return ErrorResponses.of(err);
      }
      if (!deleted) {
        return notFound(id);
      }
      JsonNode body = Json.object().put("id", id).put("object", "response.deleted").put("deleted", true);
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.write(body));
    });
  }

  private static HttpResponse notFound(String id) {
    return ErrorResponses.of(new LlmException(ErrorKind.NOT_FOUND, "Response with id '" + id + "' not found.", null,
        false, "response_id"));
  }
}
