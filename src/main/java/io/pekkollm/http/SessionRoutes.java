package io.pekkollm.http;

import io.pekkollm.stream.ChatStream;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.session.NewSession;
import io.pekkollm.session.Session;
import io.pekkollm.api.LlmClient;
import io.pekkollm.wire.openai.JsonFields;
import io.pekkollm.session.SessionClient;
import io.pekkollm.session.SessionJson;
import io.pekkollm.session.SessionSummary;
import io.pekkollm.session.SessionUpdate;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The session routes, under {@code /v1} (behind the gateway's API key when one is set):
 * <ul>
 *   <li>{@code POST /v1/sessions} {@code {"model", "id"?, "name"?, "system"?, "metadata"?, "context_strategy"?}}
 *   creates a session; {@code GET /v1/sessions?limit=&after=} lists them, newest first;</li>
 *   <li>{@code GET /v1/sessions/{id}} gives the session (the export format, {@link SessionJson});
 *   {@code PATCH} changes its {@code name}, {@code model}, {@code metadata} or {@code context_strategy};
 *   {@code DELETE} deletes it;</li>
 *   <li>{@code POST /v1/sessions/{id}/chat} runs a turn: an OpenAI chat body whose {@code messages} are the new
 *   user or tool messages ({@code model} optional, default the session's; {@code stream: true} answers SSE exactly
 *   as {@code /v1/chat/completions} does). {@code /v1/sessions/{id}/chat/completions} is the same route, so an
 *   OpenAI SDK whose base URL is {@code .../v1/sessions/{id}} chats within the session (with model
 *   {@code "session"});</li>
 *   <li>{@code GET /v1/sessions/{id}/export} downloads the session file; {@code POST /v1/sessions/import} (with
 *   {@code ?new_id=true} to give it a new id) imports one, all or nothing.</li>
 * </ul>
 * Responses to a turn carry {@code X-Session-Id}. A session made with a virtual key belongs to it: other virtual
 * keys get 404 for it on every route and do not see it listed; the gateway's own keys see every session
 * ({@link GatewayAuth.Caller#canSee}). Session ids are scoped by virtual key: key A's {@code s1} and key B's
 * {@code s1} are two sessions, so no key learns from an id that another key uses it ({@link Scope}).
 */
final class SessionRoutes {
  private final LlmClient client;
  private final Supplier<SessionClient> sessionClient;
  private final RequestBodies bodies;
  private final SseResponses sse;

  /** The client's sessions are asked for on each request: they start with the first request that needs them. */
  SessionRoutes(LlmClient client, RequestBodies bodies, SseResponses sse) {
    this.client = client;
    this.sessionClient = client::sessions;
    this.bodies = bodies;
    this.sse = sse;
  }

  Route route(HttpRequest req) {
    return pathPrefix("sessions", () -> route(req, sessionClient.get()));
  }

  private Route route(HttpRequest req, SessionClient sessions) {
    GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
    Scope scope = Scope.of(caller);
    return concat(
        pathEndOrSingleSlash(() -> concat(
            post(() -> completeWithFuture(withBody(req, body -> create(body, caller, scope)))),
            get(() -> parameterOptional("limit", limit -> parameterOptional("after", after ->
                completeWithFuture(list(limit.orElse("20"), after.orElse(null), caller, scope))))))),
        path("import", () -> post(() -> parameterOptional("new_id", newId ->
            completeWithFuture(withBody(req, body -> importJson(sessions, body,
                newId.map("true"::equals).orElse(false), caller, scope)))))),
        path(segment(), id -> concat(
            get(() -> completeWithFuture(visible(sessions, id, caller, scope).thenApply(s -> s
                .map(x -> sessionResponse(x, scope)).orElseGet(() -> notFound(id))))),
            patch(() -> completeWithFuture(withBody(req, body -> owned(sessions, id, caller, scope,
                stored -> update(stored, body, scope))))),
            delete(() -> completeWithFuture(owned(sessions, id, caller, scope, stored -> sessions.delete(stored)
                .thenApply(deleted -> deleted
                    ? json(Json.object().put("id", id).put("object", "session.deleted").put("deleted", true))
                    : notFound(id))))))),
        path(segment().slash("chat"), id -> post(() -> completeWithFuture(withBody(req,
            body -> owned(sessions, id, caller, scope, stored -> chat(stored, id, body, caller)))))),
        path(segment().slash("chat").slash("completions"), id -> post(() -> completeWithFuture(withBody(req,
            body -> owned(sessions, id, caller, scope, stored -> chat(stored, id, body, caller)))))),
        path(segment().slash("export"), id -> get(() -> completeWithFuture(visible(sessions, id, caller, scope)
            .thenApply(s -> s.map(x -> sessionResponse(x, scope).addHeader(RawHeader.create("Content-Disposition",
                "attachment; filename=\"session-" + id + ".json\"")))
            .orElseGet(() -> notFound(id)))))));
  }

  /**
   * How a caller's session ids map to the ids in the session store. The gateway's own keys (and anyone, with no
   * key set) use the ids as they are; a virtual key's ids are stored as {@code k<key id>_<id>} (a key id is 16 hex
   * digits), so two keys may use the same id without either learning of the other's, and the prefix is taken off
   * again in every answer. Sessions a key made before ids were scoped keep their plain id and are still found
   * (by their owner). The gateway's own keys see the stored ids.
   */
  private record Scope(String prefix) {
    static final Scope NONE = new Scope("");
    private static final java.util.regex.Pattern VALID = java.util.regex.Pattern.compile("[A-Za-z0-9_-]+");

    static Scope of(GatewayAuth.Caller caller) {
      return caller.key() == null ? NONE : new Scope("k" + caller.key().id() + "_");
    }

    boolean scoped() {
      return !prefix.isEmpty();
    }

    /** Whether {@code id} can be one of this caller's ids (a scoped id must fit the store's 64 characters). */
    boolean fits(String id) {
      return !scoped() || (id.length() + prefix.length() <= 64 && VALID.matcher(id).matches() && !id.equals("import"));
    }

    /** {@code id} as the store knows it; a 400 for a scoped id that cannot be one. */
    String stored(String id) {
      if (!fits(id)) {
        throw LlmException.invalidRequest("session id '" + id + "' is not valid: use 1 to " + (64 - prefix.length())
            + " letters, digits, '-' or '_'", "id");
      }
      return prefix + id;
    }

    /** A stored id as this caller knows it. */
    String shown(String storedId) {
      return scoped() && storedId.startsWith(prefix) ? storedId.substring(prefix.length()) : storedId;
    }

    /** {@code stage} with a failure's message naming ids as this caller knows them (a 409 for its own "s1"). */
    <T> CompletionStage<T> shownErrors(CompletionStage<T> stage) {
      if (!scoped()) {
        return stage;
      }
      return stage.exceptionally(err -> {
        Throwable cause = io.pekkollm.util.Futures.cause(err);
        if (cause instanceof LlmException e && e.getMessage() != null && e.getMessage().contains(prefix)) {
          throw new LlmException(e.kind(), e.getMessage().replace(prefix, ""), e, e.isRetryable(), e.param());
        }
        throw err instanceof java.util.concurrent.CompletionException ce ? ce
            : new java.util.concurrent.CompletionException(err);
      });
    }

    /** A new id for a session this caller creates or imports without one (scoped callers only). */
    String fresh() {
      return prefix + "sess_" + java.util.UUID.randomUUID().toString().replace("-", "");
    }
  }

  /**
   * The session {@code id} of {@code caller} (in the store, see {@link Scope}) if it may see it: empty for another
   * key's, never revealing that it exists.
   */
  private static CompletionStage<java.util.Optional<Session>> visible(SessionClient sessions, String id,
      GatewayAuth.Caller caller, Scope scope) {
    if (!scope.scoped()) {
      return sessions.get(id).thenApply(s -> s.filter(x -> caller.canSee(x.owner())));
    }
    if (!scope.fits(id)) {
      return CompletableFuture.completedFuture(java.util.Optional.empty());
    }
    return sessions.get(scope.stored(id)).thenCompose(s -> s.isPresent() ? CompletableFuture.completedFuture(s)
        // A session this key made before ids were scoped.
        : sessions.get(id).thenApply(old -> old.filter(x -> caller.canSee(x.owner()))));
  }

  /**
   * {@code action} with the stored id of session {@code id} when {@code caller} may use it; a 404 when it is
   * another key's or there is none (for the gateway's own keys, the action itself answers a missing one).
   */
  private static CompletionStage<HttpResponse> owned(SessionClient sessions, String id, GatewayAuth.Caller caller,
      Scope scope, Function<String, CompletionStage<HttpResponse>> action) {
    if (caller.key() == null) {
      return action.apply(id);
    }
    return visible(sessions, id, caller, scope).thenCompose(s -> s.isPresent() ? action.apply(s.get().id())
        : CompletableFuture.completedFuture(notFound(id)));
  }

  private static CompletionStage<HttpResponse> importJson(SessionClient sessions, JsonNode body, boolean newId,
      GatewayAuth.Caller caller, Scope scope) {
    if (scope.scoped() && body != null && body.isObject()) {
      ObjectNode copy = ((ObjectNode) body).deepCopy();
      JsonNode id = copy.get("id");
      copy.put("id", newId || id == null || !id.isTextual() ? scope.fresh() : scope.stored(id.asText()));
      return scope.shownErrors(sessions.importJson(copy, false, caller.owner()))
          .thenApply(s -> sessionResponse(s, scope));
    }
    return sessions.importJson(body, newId, caller.owner()).thenApply(s -> sessionResponse(s, scope));
  }

  // ------------------------------------------------------------------ handlers

  private CompletionStage<HttpResponse> create(JsonNode body, GatewayAuth.Caller caller, Scope scope) {
    requireObject(body, "{\"model\": \"openai/gpt-4o-mini\", \"name\": \"...\"}");
    String id = JsonFields.optText(body, "id");
    NewSession.Builder b = NewSession.builder()
        .id(!scope.scoped() ? id : id == null ? scope.fresh() : scope.stored(id))
        .name(JsonFields.optText(body, "name"))
        .model(JsonFields.optText(body, "model"))
        .system(JsonFields.optText(body, "system"))
        .metadata(metadata(body.get("metadata")))
        .owner(caller.owner());
    if (body.has("context_strategy")) {
      TruncationStrategy s = strategy(body.get("context_strategy"));
      if (s == null) {
        b.noContextStrategy();
      } else {
        b.contextStrategy(s);
      }
    }
    return scope.shownErrors(sessionClient.get().create(b.build())).thenApply(s -> sessionResponse(s, scope));
  }

  private CompletionStage<HttpResponse> update(String id, JsonNode body, Scope scope) {
    requireObject(body, "{\"name\": \"...\", \"model\": \"provider/model\"}");
    SessionUpdate.Builder b = SessionUpdate.builder().name(JsonFields.optText(body, "name")).model(JsonFields.optText(body, "model"));
    if (body.has("metadata")) {
      b.metadata(metadata(body.get("metadata")));
    }
    if (body.has("context_strategy")) {
      b.contextStrategy(strategy(body.get("context_strategy")));
    }
    return sessionClient.get().update(id, b.build()).thenApply(s -> sessionResponse(s, scope));
  }

  private CompletionStage<HttpResponse> list(String limitParam, String after, GatewayAuth.Caller caller,
      Scope scope) {
    int limit;
    try {
      limit = Integer.parseInt(limitParam.trim());
    } catch (NumberFormatException e) {
      limit = 0;
    }
    if (limit < 1 || limit > SessionClient.MAX_PAGE) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "'limit' must be an integer from 1 to " + SessionClient.MAX_PAGE, "limit"));
    }
    String from = after == null || !scope.fits(after) ? after : scope.stored(after);
    return sessionClient.get().list(limit, from, caller.owner()).thenApply(page -> {
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      for (SessionSummary s : page.sessions()) {
        data.addObject().put("id", scope.shown(s.id())).put("object", "session").put("name", s.name()).put("model", s.model())
            .put("created_at", s.createdAt().toString());
      }
      root.put("first_id", page.sessions().isEmpty() ? null : scope.shown(page.sessions().get(0).id()));
      root.put("last_id", page.sessions().isEmpty() ? null
          : scope.shown(page.sessions().get(page.sessions().size() - 1).id()));
      root.put("has_more", page.hasMore());
      return json(root);
    });
  }

  /** A turn of session {@code id} (stored; {@code shownId} to the caller): the OpenAI chat body minus history. */
  private CompletionStage<HttpResponse> chat(String id, String shownId, JsonNode body, GatewayAuth.Caller caller) {
    requireObject(body, "{\"messages\": [{\"role\": \"user\", \"content\": \"...\"}]}");
    ObjectNode o = ((ObjectNode) body).deepCopy();
    if (!o.hasNonNull("model")) {
      o.put("model", SessionClient.SESSION_MODEL);
    }
    ChatCompletionsCodec.ParsedRequest parsed = ChatCompletionsCodec.readRequest(o);
    ChatRequest turn = caller.own(parsed.request());
    if (caller.key() == null) {
      return turn(id, shownId, parsed, turn, GatewayAuth.Charge.NONE);
    }
    CompletionStage<String> model = SessionClient.SESSION_MODEL.equals(turn.model())
        ? sessionClient.get().get(id).thenApply(found -> found.map(Session::model).orElse(turn.model()))
        : CompletableFuture.completedFuture(turn.model());
    return model.thenCompose(caller::admit).thenCompose(charge -> turn(id, shownId, parsed, turn, charge));
  }

  private CompletionStage<HttpResponse> turn(String id, String shownId, ChatCompletionsCodec.ParsedRequest parsed,
      ChatRequest turn, GatewayAuth.Charge charge) {
    List<HttpHeader> sessionHeader = List.of(RawHeader.create("X-Session-Id", shownId));
    if (!parsed.stream()) {
      return sessionClient.get().chat(id, turn)
          .handle((resp, err) -> GatewayAuth.Charge.after(ChatCompletionRoutes.settle(charge, turn.model(), resp),
              resp, err))
          .thenCompose(charged -> charged)
          .thenApply(resp -> HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_JSON,
              ChatCompletionsCodec.writeResponse(resp, ResponseHeaders.newId(), ResponseHeaders.nowSeconds()))
          .addHeaders(sessionHeader)
          .addHeaders(ResponseHeaders.truncation(resp.truncation()))
          .addHeaders(ResponseHeaders.cache(resp.cacheStatus())));
    }
    return sessionClient.get().streamJournaled(id, turn).thenCompose(stream -> {
      String model = stream.model();
      ChatCompletionsEvents events = new ChatCompletionsEvents(ResponseHeaders.newId(), () -> model,
          ResponseHeaders.nowSeconds(), parsed.includeUsage(),
          (providerModel, usage) -> client.cost(model, providerModel, usage).orElse(null));
      return sse.respond(stream.chunks(), events, List.of(), ChatStream::recoveryId, handle -> {
        List<HttpHeader> headers = new ArrayList<>(sessionHeader);
        headers.addAll(ResponseHeaders.truncation(handle.truncation()));
        headers.addAll(ResponseHeaders.cache(handle.cacheStatus()));
        return headers;
      }, SseResponses.metered(client, charge, model));
    });
  }

  // ------------------------------------------------------------------ helpers

  /** Reads the body as JSON (size-limited), runs {@code handler}, and turns every failure into an error body. */
  private CompletionStage<HttpResponse> withBody(HttpRequest req, Function<JsonNode, CompletionStage<HttpResponse>> handler) {
    return bodies.read(req)
        .thenCompose(data -> handler.apply(RequestBodies.json(data)))
        .exceptionally(ErrorResponses::of);
  }

  private static void requireObject(JsonNode body, String example) {
    if (body == null || !body.isObject()) {
      throw LlmException.invalidRequest("the body must be a JSON object like " + example, null);
    }
  }

  private static Map<String, String> metadata(JsonNode md) {
    if (md == null || md.isNull()) {
      return Map.of();
    }
    if (!md.isObject()) {
      throw LlmException.invalidRequest("'metadata' must be an object of strings", "metadata");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : md.properties()) {
      if (!e.getValue().isTextual()) {
        throw LlmException.invalidRequest("'metadata." + e.getKey() + "' must be a string", "metadata");
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  /** {@code sliding_window}, {@code smart}, or {@code none} / null for no strategy. */
  private static TruncationStrategy strategy(JsonNode v) {
    if (v == null || v.isNull() || (v.isTextual() && v.asText().equals("none"))) {
      return null;
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest("'context_strategy' must be \"sliding_window\", \"smart\" or \"none\"",
          "context_strategy");
    }
    try {
      return TruncationStrategy.of(v.asText());
    } catch (LlmException e) {
      throw LlmException.invalidRequest("'context_strategy' must be \"sliding_window\", \"smart\" or \"none\", not \""
          + v.asText() + "\"", "context_strategy");
    }
  }

  private static HttpResponse sessionResponse(Session s, Scope scope) {
    ObjectNode body = SessionJson.write(s);
    if (scope.scoped() && body.hasNonNull("id")) {
      body.put("id", scope.shown(body.get("id").asText()));
    }
    return json(body);
  }

  private static HttpResponse notFound(String id) {
    return ErrorResponses.simple(ErrorKind.NOT_FOUND, 404, "no session with id '" + id + "'", "session_id");
  }

  private static HttpResponse json(ObjectNode body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(body));
  }
}
