package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.reject;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ProviderStatus;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.recovery.ResumeStrategy;
import io.pekkollm.recovery.StreamSnapshot;
import io.pekkollm.resilience.ModelGroup;
import io.pekkollm.structured.StructuredOutput;
import io.pekkollm.structured.StructuredOutputException;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.japi.JavaPartialFunction;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP routes: OpenAI-compatible {@code POST /v1/chat/completions} (JSON or SSE),
 * {@code GET /v1/models} and {@code GET /v1/models/{provider}/{model}} (with catalog metadata),
 * {@code GET /health}, {@code GET /health/providers}. Every error is OpenAI's error body with a matching status;
 * the routes never fail the connection for a bad request.
 *
 * <p>Extensions to OpenAI's shapes: {@code usage.cost} (USD, as OpenRouter reports it) when the catalog prices
 * the model; a request body field {@code truncation: "sliding_window" | "smart"} that shortens a request
 * exceeding the context window instead of rejecting it, reported in the response headers
 * {@code X-Truncated-Messages}, {@code X-Truncation-Tokens-Before} and {@code X-Truncation-Tokens-After}; a body
 * field {@code cache: true | false | {"ttl_seconds": n, "no_cache": bool}} that opts the request in or out of the
 * response cache, reported in {@code X-Cache: HIT | MISS | COALESCED} and {@code X-Cache-Key}. The cache's admin
 * routes are in {@link CacheRoutes}, the session routes in {@link SessionRoutes};
 * a request body field {@code retry: false | {"max_attempts": n}} overriding the provider's retries; model groups
 * addressed by name, the serving model named in {@code model} and the {@code X-Served-Model} header; and
 * {@code GET /metrics}, Prometheus text, under the same API-key rule as {@code /v1}.
 */
public final class GatewayRoutes {
  private static final Logger ACCESS = LoggerFactory.getLogger("io.pekkollm.access");
  private static final ByteString DONE = ByteString.fromString("data: [DONE]\n\n");
  // An SSE comment line: ignored by clients, keeps proxies and idle timers from closing a quiet stream.
  private static final ByteString KEEP_ALIVE = ByteString.fromString(": keep-alive\n\n");
  // The Prometheus text exposition format, version 0.0.4.
  private static final ContentType PROMETHEUS_TEXT = ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  private final LlmClient client;
  private final GatewaySettings settings;
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final byte[] apiKeyHeader;
  private final CacheRoutes cacheRoutes;
  private final SessionRoutes sessionRoutes;
  private final RequestBodies bodies;
  private final RequestGuard guard;
  private final LargeRequests largeRequests;

  public GatewayRoutes(LlmClient client, GatewaySettings settings) {
    this.client = client;
    this.settings = settings;
    this.system = client.system();
    this.materializer = Materializer.matFromSystem(system);
    this.apiKeyHeader = settings.apiKey().isEmpty() ? null
        : ("Bearer " + settings.apiKey()).getBytes(StandardCharsets.UTF_8);
    this.cacheRoutes = new CacheRoutes(client.cache());
    this.bodies = new RequestBodies(settings, materializer);
    this.guard = new RequestGuard(settings);
    this.sessionRoutes = client.sessionsEnabled() ? new SessionRoutes(client::sessions, settings, this) : null;
    this.largeRequests = LargeRequests.create(system.settings().config().getConfig("pekko-llm.gateway"));
    system.getWhenTerminated().thenRun(largeRequests::close);
  }

  ActorSystem<?> system() {
    return system;
  }

  LlmClient client() {
    return client;
  }

  /**
   * The gateway's request handler: {@code POST /v1/chat/completions}, the hot path, is answered directly (the
   * same authentication, handling and access log as its route, without evaluating the routing tree on each
   * request); everything else goes through {@link #route()}. Every request but {@code GET /health} passes the
   * {@link RequestGuard} (Host, Origin, CORS) first.
   */
  public org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler() {
    org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> routed = route().handler(system);
    return req -> {
      if (RequestGuard.isHealthProbe(req)) {
        return routed.apply(req);
      }
      if (req.getAttribute(ConnectionLimits.HEALTH_ONLY).isPresent()) {
        return CompletableFuture.completedFuture(tooManyConnections());
      }
      Optional<HttpResponse> refused = guard.check(req);
      if (refused.isPresent()) {
        return CompletableFuture.completedFuture(refused.get());
      }
      CompletionStage<HttpResponse> resp = isChatCompletions(req) ? chatCompletionsDirect(req) : routed.apply(req);
      return resp.thenApply(r -> guard.decorate(req, r));
    };
  }

  /** The answer on a connection accepted in the health reserve (ConnectionLimits) to anything but /health. */
  private static HttpResponse tooManyConnections() {
    return ErrorResponses.json(503, ChatCompletionsCodec.writeError("the gateway holds too many connections: retry later "
        + "(pekko.http.server.max-connections, pekko-llm.gateway.connections)", "overloaded_error", null,
        "too_many_connections"), List.of(RawHeader.create("Retry-After", "1"),
        org.apache.pekko.http.javadsl.model.headers.Connection.create("close")));
  }

  private static boolean isChatCompletions(HttpRequest req) {
    return req.method() == HttpMethods.POST && "/v1/chat/completions".equals(req.getUri().path());
  }

  private CompletionStage<HttpResponse> chatCompletionsDirect(HttpRequest req) {
    long start = System.nanoTime();
    CompletionStage<HttpResponse> resp;
    try {
      Optional<HttpResponse> denied = authenticate(req);
      resp = denied.isPresent() ? CompletableFuture.completedFuture(denied.get()) : chatCompletions(req);
    } catch (RuntimeException e) {
      resp = CompletableFuture.completedFuture(ErrorResponses.of(e));
    }
    resp = resp.exceptionally(ErrorResponses::of);
    return settings.accessLog() ? resp.thenApply(r -> logAccess(req, start, r)) : resp;
  }

  public Route route() {
    Route inner = handleExceptions(exceptionHandler(), () -> handleRejections(rejectionHandler(), () -> concat(
        pathPrefix("health", () -> get(() -> concat(
            pathEndOrSingleSlash(() -> completeWithFuture(HealthCheck.of(client))),
            // Provider details (error texts, load) need the API key like /v1; plain /health stays open for probes.
            path("providers", () -> extractRequest(req -> authenticate(req).map(denied -> complete(denied))
                .orElseGet(() -> completeWithFuture(providers()))))))),
        path("metrics", () -> get(() -> extractRequest(req -> complete(authenticate(req).orElseGet(this::metrics))))),
        pathPrefix("v1", () -> extractRequest(req -> {
          Optional<HttpResponse> denied = authenticate(req);
          if (denied.isPresent()) {
            return complete(denied.get());
          }
          return concat(
              path(segment("chat").slash("completions"), () -> post(() -> completeWithFuture(chatCompletions(req)))),
              path("models", () -> get(() -> completeWithFuture(models()))),
              path(segment("streams").slash(segment()).slash("resume"), id ->
                  post(() -> completeWithFuture(resume(id, req)))),
              path(segment("streams").slash(segment()), id -> get(() -> completeWithFuture(streamStatus(id)))),
              path(segment("models").slash(PathMatchers.remaining()),
                  rest -> get(() -> completeWithFuture(model(modelId(req))))),
              cacheRoutes.route(),
              sessionRoutes == null ? reject() : sessionRoutes.route(req));
        })))));
    return settings.accessLog() ? accessLog(inner) : inner;
  }

  // ------------------------------------------------------------------ chat completions

  private CompletionStage<HttpResponse> chatCompletions(HttpRequest req) {
    return bodies.read(req).thenCompose(body -> largeRequests.handle(body.size(), () -> handleBody(body)))
        .exceptionally(ErrorResponses::of);
  }

  private CompletionStage<HttpResponse> handleBody(ByteString body) {
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(body.toArray());
    } catch (JsonProcessingException e) {
      var loc = e.getLocation();
      String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "the request body is not valid JSON" + where + ": " + e.getOriginalMessage(), null));
    } catch (java.io.IOException e) {
      return CompletableFuture.completedFuture(ErrorResponses.of(e));
    }
    if (json == null || json.isMissingNode()) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "the request body is empty: send a JSON object with 'model' and 'messages'", null));
    }
    ChatCompletionsCodec.ParsedRequest parsed;
    try {
      parsed = ChatCompletionsCodec.readRequest(json);
    } catch (LlmException e) {
      return CompletableFuture.completedFuture(ErrorResponses.of(e));
    }
    if (parsed.validateSchema()) {
      return validated(parsed.request());
    }
    return parsed.stream() ? streamed(parsed) : whole(parsed.request());
  }

  /**
   * {@code validate_schema: true}: the answer validated against the request's json_schema, repaired by asking
   * again ({@link StructuredOutput}); answers the extracted JSON as the message content, or 422 with every
   * attempt's problems. Usage is the last model call's.
   */
  private CompletionStage<HttpResponse> validated(ChatRequest request) {
    ResponseFormat rf = request.responseFormat();
    StructuredOutput<JsonNode> output;
    try {
      output = StructuredOutput.of(rf.schemaName(), rf.schema());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "response_format.json_schema.schema: " + e.getMessage(), "response_format"));
    }
    return client.chat(request, output).handle((s, err) -> {
      if (err != null) {
        LlmException e = ErrorResponses.unwrap(err);
        if (e instanceof StructuredOutputException so) {
          ObjectNode body = (ObjectNode) ErrorResponses.parse(ChatCompletionsCodec.writeError(so.getMessage(),
              "invalid_response_error", "response_format", "schema_validation_failed"));
          ArrayNode attempts = ((ObjectNode) body.get("error")).putArray("attempts");
          so.attempts().forEach(a -> {
            ObjectNode o = attempts.addObject().put("raw_text", a.rawText());
            a.errors().forEach(o.putArray("errors")::add);
          });
          return ErrorResponses.json(422, Json.write(body), List.of());
        }
        return ErrorResponses.of(err);
      }
      ChatResponse r = s.response();
      ChatResponse valid = new ChatResponse(r.id(), r.model(), r.providerModel(), Json.write(s.json()), r.reasoning(),
          r.toolCalls(), r.finishReason(), r.usage(), r.cost().orElse(null), r.truncation().orElse(null),
          r.cacheStatus().orElse(null));
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
              ChatCompletionsCodec.writeResponse(valid, newId(), nowSeconds()))
          .addHeader(RawHeader.create("X-Served-Model", r.model()))
          .addHeader(RawHeader.create("X-Schema-Attempts", Integer.toString(s.attempts())));
    });
  }

  private CompletionStage<HttpResponse> whole(ChatRequest request) {
    return client.chat(request).handle((resp, err) -> {
      if (err != null) {
        return ErrorResponses.of(err);
      }
      String json = ChatCompletionsCodec.writeResponse(resp, newId(), nowSeconds());
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json)
          .addHeader(RawHeader.create("X-Served-Model", resp.model()))
          .addHeaders(truncationHeaders(resp.truncation()))
          .addHeaders(cacheHeaders(resp.cacheStatus()));
    });
  }

  /** {@code X-Cache: HIT | MISS | COALESCED} and {@code X-Cache-Key} when the request used the response cache. */
  static List<HttpHeader> cacheHeaders(Optional<CacheStatus> status) {
    return status.<List<HttpHeader>>map(s -> List.of(RawHeader.create("X-Cache", s.outcome().headerValue()),
        RawHeader.create("X-Cache-Key", s.key()))).orElse(List.of());
  }

  static List<HttpHeader> truncationHeaders(Optional<TruncationReport> truncation) {
    if (truncation.isEmpty()) {
      return List.of();
    }
    TruncationReport t = truncation.get();
    return List.of(RawHeader.create("X-Truncated-Messages", Integer.toString(t.messagesDropped())),
        RawHeader.create("X-Truncation-Tokens-Before", Integer.toString(t.tokensBefore())),
        RawHeader.create("X-Truncation-Tokens-After", Integer.toString(t.tokensAfter())));
  }

  private CompletionStage<HttpResponse> streamed(ChatCompletionsCodec.ParsedRequest parsed) {
    ChatRequest request = parsed.request();
    // The handle is set when the stream is materialized, before its first chunk is encoded: the model that serves
    // (a group's member, after fallbacks) is known once the first chunk is there, when the encoder and the
    // headers are first used.
    AtomicReference<ChatStream> handleRef = new AtomicReference<>();
    Supplier<String> served = () -> {
      ChatStream h = handleRef.get();
      return h == null ? request.model() : h.servedModel().orElse(request.model());
    };
    SseEncoder encoder = new SseEncoder(newId(), served, nowSeconds(), parsed.includeUsage(),
        usage -> client.cost(served.get(), usage).orElse(null));
    Source<JournaledChunk, ChatStream> source = client.streamJournaled(request).mapMaterializedValue(h -> {
      handleRef.set(h);
      return h;
    });
    // The cache's outcome is known once the first chunk is there, which is when the headers are written.
    return sse(source, encoder, List.of(), ChatStream::recoveryId, handle -> {
      List<HttpHeader> headers = new ArrayList<>(truncationHeaders(handle.truncation()));
      headers.add(RawHeader.create("X-Served-Model", served.get()));
      headers.addAll(cacheHeaders(handle.cacheStatus()));
      return headers;
    });
  }

  /**
   * Answers with SSE once the first chunk is there, so an upstream that fails before answering keeps its status
   * (401 stays 401, 429 keeps Retry-After). After that, an error becomes a final {@code data: {"error": ...}}
   * event and the stream ends without {@code [DONE]}, as OpenAI does. {@code recoveryId} and
   * {@code extraHeaders} read the stream's handle (its materialized value) when the headers are written.
   */
  <M> CompletionStage<HttpResponse> sse(Source<JournaledChunk, M> source, SseEncoder encoder, List<ByteString> preamble,
      Function<M, String> recoveryId, Function<M, List<HttpHeader>> extraHeaders) {
    CompletableFuture<M> handle = new CompletableFuture<>();
    // The failure becomes the last element right here, before any asynchronous boundary: an error signal
    // overtakes the elements buffered at such a boundary (and mapConcat drops one it still holds), and every
    // chunk the journal released is owed to the client.
    Source<Object, NotUsed> items = source
        .mapMaterializedValue(m -> {
          handle.complete(m);
          return NotUsed.getInstance();
        })
        .<Object>map(j -> j)
        .recover(new JavaPartialFunction<Throwable, Object>() {
          @Override
          public Object apply(Throwable t, boolean isCheck) {
            return isCheck ? null : new StreamFailure(t);
          }
        });
    return items
        .prefixAndTail(1)
        .runWith(Sink.head(), system)
        .handle((pair, err) -> {
          M m = handle.getNow(null);
          String id = m == null ? null : recoveryId.apply(m);
          Throwable failure = err != null ? err
              : !pair.first().isEmpty() && pair.first().get(0) instanceof StreamFailure f ? f.error() : null;
          if (failure != null) {
            HttpResponse error = ErrorResponses.of(failure);
            return id == null ? error : error.addHeader(RawHeader.create("X-Recovery-Id", id));
          }
          // Encoding and the closing events in one stage (statefulMap's completion output): each stage and inner
          // stream here is kept for the life of the response.
          Source<Object, NotUsed> all = pair.first().isEmpty() ? pair.second()
              : Source.from(pair.first()).concat(pair.second());
          Source<ByteString, NotUsed> body = all
              .statefulMap(() -> new boolean[1], (failed, x) -> {
                if (x instanceof StreamFailure f) {
                  failed[0] = true;
                  return Pair.create(failed, ByteString.fromString(
                      "data: " + ErrorResponses.body(ErrorResponses.unwrap(f.error())) + "\n\n"));
                }
                return Pair.create(failed, joined(encoder.encode((JournaledChunk) x)));
                // An interrupted stream ends with its error event, never with [DONE].
              }, failed -> failed[0] ? Optional.empty() : Optional.of(joined(encoder.finish())))
              .filter(b -> !b.isEmpty())
              .mapMaterializedValue(mv -> NotUsed.getInstance());
          if (!preamble.isEmpty()) {
            body = Source.from(preamble).concat(body);
          }
          if (!settings.sseKeepAlive().isZero()) {
            body = body.keepAlive(settings.sseKeepAlive(), () -> KEEP_ALIVE);
          }
          HttpResponse resp = HttpResponse.create()
              .withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), body))
              .addHeader(RawHeader.create("Cache-Control", "no-cache"))
              .addHeaders(m == null ? List.of() : extraHeaders.apply(m));
          return id == null ? resp : resp.addHeader(RawHeader.create("X-Recovery-Id", id));
        });
  }

  private static ByteString joined(List<ByteString> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    ByteString all = ByteString.emptyByteString();
    for (ByteString b : parts) {
      all = all.concat(b);
    }
    return all;
  }

  /** A stream's failure, carried as its last element. */
  private record StreamFailure(Throwable error) {}

  // ------------------------------------------------------------------ resumable streams

  private CompletionStage<HttpResponse> resume(String id, HttpRequest req) {
    Long lastEventId;
    try {
      lastEventId = req.getHeader("Last-Event-ID").map(h -> Long.parseLong(h.value().trim())).orElse(null);
    } catch (NumberFormatException e) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "Last-Event-ID must be the id of the last event received (a number)", "Last-Event-ID"));
    }
    return bodies.read(req)
        .thenCompose(data -> {
          ResumeStrategy strategy;
          String model;
          try {
            String text = data.utf8String();
            JsonNode body = text.isBlank() ? Json.object() : Json.parse(text);
            if (!body.isObject()) {
              throw LlmException.invalidRequest("the body must be a JSON object like {\"strategy\": \"exact\"}", null);
            }
            JsonNode s = body.get("strategy");
            if (s != null && !s.isNull() && !s.isTextual()) {
              throw LlmException.invalidRequest("'strategy' must be exact, paragraph or summarize", "strategy");
            }
            strategy = ResumeStrategy.of(s == null || s.isNull() ? null : s.asText());
            JsonNode m = body.get("model");
            if (m != null && !m.isNull() && !m.isTextual()) {
              throw LlmException.invalidRequest("'model' must be a string (provider/model)", "model");
            }
            model = m == null || m.isNull() ? null : m.asText();
          } catch (LlmException e) {
            return CompletableFuture.completedFuture(ErrorResponses.of(e));
          } catch (java.io.IOException e) {
            return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
                "the request body is not valid JSON: " + e.getMessage(), null));
          }
          return client.resume(id, strategy, model, lastEventId).thenCompose(r -> {
            ObjectNode info = Json.object().put("recovery_id", r.recoveryId()).put("strategy", r.strategy().wireName())
                .put("kept_chars", r.keptChars()).put("discarded_chars", r.discardedChars())
                .put("model", r.model()).put("attempt", r.attempt());
            ByteString first = ByteString.fromString("event: recovery\ndata: " + Json.write(info) + "\n\n");
            SseEncoder encoder = new SseEncoder(newId(), r::model, nowSeconds(), false, usage -> null);
            return sse(Source.<JournaledChunk>single(new JournaledChunk(-1, null)).concat(r.chunks()), encoder,
                List.of(first), m -> r.recoveryId(), m -> List.<HttpHeader>of());
          });
        })
        .exceptionally(ErrorResponses::of);
  }

  private CompletionStage<HttpResponse> streamStatus(String id) {
    return client.streamStatus(id).thenApply(opt -> {
      if (opt.isEmpty()) {
        return ErrorResponses.simple(ErrorKind.NOT_FOUND, 404, "no stream with recovery id '" + id + "'", "recovery_id");
      }
      StreamSnapshot s = opt.get();
      ObjectNode o = Json.object().put("recovery_id", s.recoveryId()).put("status", s.status())
          .put("provider", s.provider()).put("model", s.model()).put("attempt", s.attempt()).put("text", s.text())
          .put("last_event_id", s.lastSeq()).put("finish_reason", s.finishReason())
          .put("started_at_ms", s.startedAtMillis()).put("updated_at_ms", s.updatedAtMillis());
      if (s.usage() != null) {
        o.putObject("usage").put("prompt_tokens", s.usage().inputTokens())
            .put("completion_tokens", s.usage().outputTokens()).put("total_tokens", s.usage().totalTokens());
      }
      if (s.status().equals("interrupted")) {
        o.putObject("interruption").put("cause", s.cause()).put("kind", s.errorKind())
            .put("recoverable", s.recoverable()).put("cancelled", s.cancelled());
      }
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(o));
    });
  }

  /** Encodes chunks as numbered SSE events. One per stream; used by one stream stage at a time. */
  static final class SseEncoder {
    private final String id;
    private final Supplier<String> modelSource;
    private final long created;
    private final boolean includeUsage;
    private final Function<Usage, Cost> pricing;
    private boolean first = true;
    private String model;
    private Usage usage;

    SseEncoder(String id, Supplier<String> model, long created, boolean includeUsage, Function<Usage, Cost> pricing) {
      this.id = id;
      this.modelSource = model;
      this.created = created;
      this.includeUsage = includeUsage;
      this.pricing = pricing;
    }

    List<ByteString> encode(JournaledChunk j) {
      if (j.chunk() == null) {
        // The marker that lets a resume answer (headers and its recovery event) before the first new chunk.
        return List.of();
      }
      ChatChunk c = j.chunk();
      if (c.usage() != null) {
        usage = usage == null ? c.usage() : usage.merge(c.usage());
      }
      boolean hasContent = (c.textDelta() != null && !c.textDelta().isEmpty())
          || (c.reasoningDelta() != null && !c.reasoningDelta().isEmpty()) || !c.toolCalls().isEmpty()
          || c.finishReason() != null;
      if (!hasContent) {
        return List.of();
      }
      String json = ChatCompletionsCodec.writeChunk(c, id, model(), created, first);
      first = false;
      return List.of(event(j.seq(), json));
    }

    List<ByteString> finish() {
      if (includeUsage && usage != null) {
        return List.of(ByteString.fromString("data: "
            + ChatCompletionsCodec.writeUsageChunk(usage, pricing.apply(usage), id, model(), created) + "\n\n"), DONE);
      }
      return List.of(DONE);
    }

    private String model() {
      if (model == null) {
        model = modelSource.get();
      }
      return model;
    }

    /** One event; {@code seq} is the journal's sequence number, the id a client sends back as Last-Event-ID. */
    private ByteString event(long seq, String json) {
      // Compact JSON never contains a raw newline, so one data: line per event is exact SSE.
      return ByteString.fromString("id: " + seq + "\ndata: " + json + "\n\n");
    }
  }

  // ------------------------------------------------------------------ models and health

  /**
   * The models of every enabled provider as its API lists them (kept for a TTL by model discovery), each with
   * its catalog metadata (null values for models the catalog does not know). An enabled provider whose listing
   * fails or gives nothing (no list endpoint, unreachable) is represented by its catalog models instead, so its
   * known models can still be discovered.
   */
  private CompletionStage<HttpResponse> models() {
    return client.discoverModels().thenApply(listed -> {
      List<ModelInfo> models = new ArrayList<>(listed);
      Set<String> providersListed = new HashSet<>();
      listed.forEach(m -> providersListed.add(m.provider()));
      for (String provider : client.enabledProviderNames()) {
        if (!providersListed.contains(provider)) {
          for (ModelEntry e : client.catalog().models(provider)) {
            models.add(new ModelInfo(e.id(), provider, 0, provider));
          }
        }
      }
      models.sort(Comparator.comparing(ModelInfo::id));
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      for (ModelInfo m : models) {
        data.add(modelObject(m.id(), m.created(), m.ownedBy() == null ? m.provider() : m.ownedBy(),
            client.catalog().find(m.id()).orElse(null)));
      }
      client.routing().groups().values().stream().sorted(Comparator.comparing(ModelGroup::name))
          .forEach(g -> data.add(groupObject(g)));
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(root));
    });
  }

  private static ObjectNode modelObject(String id, long created, String ownedBy, ModelEntry entry) {
    ObjectNode o = Json.object().put("id", id).put("object", "model").put("created", created)
        .put("owned_by", ownedBy);
    return CatalogJson.addMetadata(o, entry);
  }

  /** A model group in the models list: addressed by its name, with its strategy and members. */
  private static ObjectNode groupObject(ModelGroup g) {
    ObjectNode o = Json.object().put("id", g.name()).put("object", "model").put("created", 0)
        .put("owned_by", "pekko-llm");
    ObjectNode group = o.putObject("group").put("strategy", g.strategy().configName());
    ArrayNode members = group.putArray("models");
    g.models().forEach(members::add);
    return o;
  }

  /** The model id after {@code /v1/models/}, from the decoded path segments (ids contain slashes). */
  private static String modelId(HttpRequest req) {
    List<String> segments = new ArrayList<>();
    req.getUri().pathSegments().forEach(segments::add);
    int models = segments.indexOf("models");
    return String.join("/", segments.subList(models + 1, segments.size()));
  }

  /**
   * One model of an enabled provider: from the catalog (aliases resolve), else from the provider's own list
   * with unknown metadata; 404 in OpenAI's error shape otherwise.
   */
  private CompletionStage<HttpResponse> model(String id) {
    Optional<ModelGroup> group = id.indexOf('/') < 0 ? client.routing().group(id) : Optional.empty();
    if (group.isPresent()) {
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
          Json.writeBytes(groupObject(group.get()))));
    }
    int slash = id.indexOf('/');
    String provider = slash > 0 ? id.substring(0, slash) : id;
    if (slash <= 0 || slash == id.length() - 1 || !client.enabledProviderNames().contains(provider)) {
      return CompletableFuture.completedFuture(notFound(id, slash <= 0 ? "use provider/model, e.g. mock/echo"
          : "provider '" + provider + "' is not configured or not enabled"));
    }
    Optional<ModelEntry> entry = client.catalog().find(id);
    if (entry.isPresent()) {
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
          Json.writeBytes(modelObject(id, 0, provider, entry.get()))));
    }
    return client.modelDiscovery().models(provider)
        .handle((list, err) -> {
          Optional<ModelInfo> listed = err != null ? Optional.empty()
              : list.models().stream().filter(m -> m.id().equals(id)).findFirst();
          return listed.map(m -> HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
                  Json.writeBytes(modelObject(id, m.created(), m.ownedBy() == null ? provider : m.ownedBy(), null))))
              .orElseGet(() -> notFound(id, "neither the model catalog nor the provider lists it"));
        });
  }

  private static HttpResponse notFound(String id, String why) {
    return ErrorResponses.of(new LlmException(ErrorKind.MODEL_NOT_FOUND, "the model '" + id
        + "' does not exist: " + why, null, false, "model"));
  }

  /**
   * Per provider: enabled, circuit breaker (state, Retry-After while open, per-model breakers that are not
   * closed), in-flight and queued calls, recent error rate (provider faults among the latest 100 calls),
   * latency and time-to-first-chunk percentiles of the latest 256 calls, the last error, and the latest active
   * health check when one is configured.
   */
  private CompletionStage<HttpResponse> providers() {
    return client.providerStatus().thenApply(list -> {
      ObjectNode root = Json.object();
      ArrayNode arr = root.putArray("providers");
      for (ProviderStatus s : list) {
        ObjectNode o = arr.addObject().put("name", s.name()).put("kind", s.kind()).put("enabled", s.enabled())
            .put("in_flight", s.inFlight()).put("max_in_flight", s.maxInFlight()).put("queued", s.queued())
            .put("queue_size", s.queueSize()).put("requests", s.requests()).put("failures", s.failures())
            .put("avg_latency_ms", s.avgLatencyMillis());
        ObjectNode breaker = o.putObject("circuit_breaker").put("state", s.breaker());
        if (s.breaker().equals("open")) {
          breaker.put("retry_after_ms", s.breakerRetryAfterMillis());
        }
        if (!s.openModelBreakers().isEmpty()) {
          ArrayNode models = breaker.putArray("open_models");
          s.openModelBreakers().forEach(models::add);
        }
        o.putObject("recent").put("calls", s.recentCalls()).put("error_rate", s.recentErrorRate());
        percentiles(o, "latency_ms", s.latencyMillis());
        percentiles(o, "time_to_first_chunk_ms", s.timeToFirstChunkMillis());
        if (s.lastError() != null) {
          o.put("last_error", s.lastError()).put("last_error_at_ms", s.lastErrorAtMillis());
        }
        if (s.healthCheck() != null) {
          ProviderStatus.HealthCheck c = s.healthCheck();
          ObjectNode check = o.putObject("health_check").put("ok", c.ok()).put("at_ms", c.atMillis())
              .put("latency_ms", c.latencyMillis());
          if (c.error() != null) {
            check.put("error", c.error());
          }
        }
      }
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(root));
    });
  }

  private static void percentiles(ObjectNode o, String name, ProviderStatus.Percentiles p) {
    if (p != null) {
      o.putObject(name).put("p50", p.p50()).put("p95", p.p95()).put("p99", p.p99()).put("samples", p.samples());
    }
  }

  /** Prometheus text exposition of the client's metrics; 404 when metrics are off. */
  private HttpResponse metrics() {
    Optional<String> text = settings.metrics() ? client.metrics().scrape() : Optional.empty();
    if (text.isEmpty()) {
      return ErrorResponses.simple(ErrorKind.NOT_FOUND, 404,
          "metrics are disabled (pekko-llm.metrics.enabled, pekko-llm.gateway.metrics)", null);
    }
    return HttpResponse.create().withEntity(HttpEntities.create(PROMETHEUS_TEXT,
        text.get().getBytes(StandardCharsets.UTF_8)));
  }

  // ------------------------------------------------------------------ cross-cutting

  private Optional<HttpResponse> authenticate(HttpRequest req) {
    if (apiKeyHeader == null) {
      return Optional.empty();
    }
    byte[] given = req.getHeader("Authorization").map(h -> h.value().getBytes(StandardCharsets.UTF_8))
        .orElse(new byte[0]);
    if (MessageDigest.isEqual(given, apiKeyHeader)) {
      return Optional.empty();
    }
    return Optional.of(ErrorResponses.json(401, ChatCompletionsCodec.writeError(
        "missing or invalid API key: send 'Authorization: Bearer <key>' with the gateway's PEKKO_LLM_API_KEY",
        "authentication_error", null, "invalid_api_key"),
        List.of(RawHeader.create("WWW-Authenticate", "Bearer"))));
  }

  private Route accessLog(Route inner) {
    return extractRequest(req -> {
      long start = System.nanoTime();
      return mapResponse(resp -> logAccess(req, start, resp), () -> inner);
    });
  }

  private static HttpResponse logAccess(HttpRequest req, long start, HttpResponse resp) {
    if (ACCESS.isInfoEnabled()) {
      long micros = (System.nanoTime() - start) / 1000;
      ACCESS.info("{} {} {} {}.{} ms", req.method().value(), req.getUri().path(), resp.status().intValue(),
          micros / 1000, String.valueOf(1000 + micros % 1000 / 10).substring(2));
    }
    return resp;
  }

  private static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(Throwable.class, t -> complete(ErrorResponses.of(t)))
        .build();
  }

  private static RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(resp -> {
      if (resp.entity() instanceof HttpEntity.Strict strict
          && !strict.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
        int status = resp.status().intValue();
        ErrorKind kind = status == 404 ? ErrorKind.MODEL_NOT_FOUND : ErrorKind.INVALID_REQUEST;
        String msg = status == 404 ? "no such route: see /v1/chat/completions, /v1/models, /health"
            : strict.getData().utf8String();
        return resp.withEntity(ContentTypes.APPLICATION_JSON,
            ChatCompletionsCodec.writeError(msg, status == 404 ? "not_found_error" : kind.openAiType(), null, null));
      }
      return resp;
    });
  }

  static String newId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return "chatcmpl-" + Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
  }

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }
}
