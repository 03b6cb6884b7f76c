package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.mapRequest;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.reject;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ErrorKind;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's HTTP routes, composed here from one class per resource: chat completions
 * ({@link ChatCompletionRoutes}), embeddings ({@link EmbeddingRoutes}), the Responses API
 * ({@link ResponsesRoutes}), journalled streams ({@link StreamRoutes}), models ({@link ModelRoutes}), sessions
 * ({@link SessionRoutes}), the cache ({@link CacheRoutes}), health and metrics ({@link HealthRoutes}), Anthropic's
 * Messages API ({@link MessagesRoutes}, which answers in Anthropic's own error shape); with one key
 * check ({@link GatewayAuth}), one body reader ({@link RequestBodies}), one SSE writer ({@link SseResponses}) and
 * the access log. Every error is OpenAI's error body with a matching status; the routes never fail the connection
 * for a bad request.
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
 * {@code GET /metrics}, Prometheus text, under the same API-key rule as {@code /v1}. The admin API (provider
 * templates, runtime providers) is in {@link AdminRoutes}, the web UI at {@code /ui} in {@link UiRoutes}.
 */
public final class GatewayRoutes {
  private static final Logger ACCESS = LoggerFactory.getLogger("io.pekkollm.access");

  private final GatewaySettings settings;
  private final ActorSystem<?> system;
  private final GatewayAuth auth;
  private final RequestGuard guard;
  private final ChatCompletionRoutes chat;
  private final StreamRoutes streams;
  private final ModelRoutes models;
  private final HealthRoutes health;
  private final CacheRoutes cacheRoutes;
  private final SessionRoutes sessionRoutes;
  private final MessagesRoutes messages;
  private final EmbeddingRoutes embeddings;
  private final ResponsesRoutes responses;
  private final KeyRoutes keyRoutes;
  private final GatewayTracing tracing;
  private final AdminRoutes adminRoutes;
  private final RecentStreams recentStreams = new RecentStreams();
  private final boolean ui;

  public GatewayRoutes(LlmClient client, GatewaySettings settings) {
    this.settings = settings;
    this.system = client.system();
    RequestBodies bodies = new RequestBodies(settings, Materializer.matFromSystem(system));
    SseResponses sse = new SseResponses(system, settings.sseKeepAlive());
    LargeRequests largeRequests = LargeRequests.create(system.settings().config().getConfig("pekko-llm.gateway"));
    system.getWhenTerminated().thenRun(largeRequests::close);
    this.auth = new GatewayAuth(settings, client::keys, system);
    this.keyRoutes = new KeyRoutes(auth, bodies);
    this.guard = new RequestGuard(settings);
    this.tracing = new GatewayTracing(client.tracing());
    this.chat = new ChatCompletionRoutes(client, bodies, largeRequests, sse);
    this.responses = new ResponsesRoutes(client, bodies, sse);
    this.streams = new StreamRoutes(client, bodies, sse, responses, auth);
    this.models = new ModelRoutes(client);
    this.health = new HealthRoutes(client, settings);
    this.cacheRoutes = new CacheRoutes(client.cache());
    this.embeddings = new EmbeddingRoutes(client, bodies);
    this.sessionRoutes = client.sessionsEnabled() ? new SessionRoutes(client, bodies, sse) : null;
    this.messages = new MessagesRoutes(client, auth, bodies, largeRequests, sse);
    io.pekkollm.admin.AdminSettings admin = io.pekkollm.admin.AdminSettings.create(
        system.settings().config().withFallback(com.typesafe.config.ConfigFactory.defaultReference()));
    // Started now, not on first use: the stored runtime providers must run again when the gateway starts.
    io.pekkollm.admin.RuntimeProviders runtime = io.pekkollm.admin.RuntimeProviders.start(client, admin);
    this.adminRoutes = new AdminRoutes(auth, bodies, () -> runtime, recentStreams, streams);
    this.ui = admin.uiEnabled();
  }

  /**
   * The gateway's request handler: {@code POST /v1/chat/completions}, {@code /v1/messages} and
   * {@code /v1/responses}, the hot paths, are answered directly (the same authentication, handling and access log
   * as their routes, without evaluating the routing tree on each request); everything else goes through
   * {@link #route()}. Every request but {@code GET /health} passes the
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
        return auth.refused(req, refused.get());
      }
      HttpRequest traced = tracing.start(req);
      CompletionStage<HttpResponse> resp = direct(traced);
      if (resp == null) {
        resp = routed.apply(traced);
      }
      resp = resp.thenApply(r -> guard.decorate(traced, recentStreams.record(r)));
      return traced == req ? resp : GatewayTracing.finish(traced, resp);
    };
  }

  /**
   * The answer to a request on one of the hot paths ({@code POST /v1/chat/completions}, {@code /v1/messages},
   * {@code /v1/responses}), without the routing tree: the same key check, handler, error shape and access log as
   * their routes. Null for every other request.
   */
  private CompletionStage<HttpResponse> direct(HttpRequest req) {
    if (req.method() != HttpMethods.POST) {
      return null;
    }
    return switch (req.getUri().path()) {
      case "/v1/chat/completions" -> direct(req, false, chat::handle, ErrorResponses::of);
      case "/v1/messages" -> direct(req, true, messages::messages, ErrorResponses::anthropic);
      case "/v1/responses" -> direct(req, false, responses::create, ErrorResponses::of);
      default -> null;
    };
  }

  private CompletionStage<HttpResponse> direct(HttpRequest req, boolean anthropic,
      java.util.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler,
      java.util.function.Function<Throwable, HttpResponse> errors) {
    long start = System.nanoTime();
    HttpRequest noted = settings.accessLog() ? req.addAttribute(GatewayAuth.NOTE, new GatewayAuth.AccessNote()) : req;
    CompletionStage<HttpResponse> resp;
    try {
      resp = auth.authorized(noted, anthropic, handler);
    } catch (RuntimeException e) {
      resp = CompletableFuture.completedFuture(errors.apply(e));
    }
    resp = resp.exceptionally(errors::apply);
    return settings.accessLog() ? resp.thenApply(r -> logAccess(noted, start, r)) : resp;
  }

  /** The answer on a connection accepted in the health reserve (ConnectionLimits) to anything but /health. */
  private static HttpResponse tooManyConnections() {
    return ErrorResponses.json(503, ChatCompletionsCodec.writeError("the gateway holds too many connections: retry later "
        + "(pekko.http.server.max-connections, pekko-llm.gateway.connections)", "overloaded_error", null,
        "too_many_connections"), List.of(RawHeader.create("Retry-After", "1"),
        org.apache.pekko.http.javadsl.model.headers.Connection.create("close")));
  }

  public Route route() {
    Route inner = handleExceptions(exceptionHandler(), () -> handleRejections(rejectionHandler(), () -> concat(
        pathPrefix("health", () -> get(() -> concat(
            pathEndOrSingleSlash(() -> completeWithFuture(health.health())),
            path("ready", () -> completeWithFuture(health.ready())),
            // Provider details (error texts, load) need the API key like /v1; plain /health stays open for probes.
            path("providers", () -> authenticated(() -> completeWithFuture(health.providers())))))),
        path("metrics", () -> get(() -> authenticated(() -> complete(health.metrics())))),
        ui ? UiRoutes.route() : reject(),
        // Anthropic's Messages routes check the key themselves: they also take it in x-api-key, and answer
        // Anthropic's error shape.
        pathPrefix("v1", () -> concat(messages.route(), anthropicModels(), authenticated(() -> extractRequest(req -> concat(
            path(segment("chat").slash("completions"), () -> post(() -> completeWithFuture(chat.handle(req)))),
            path("models", () -> get(() -> completeWithFuture(models.list()))),
            path(segment("streams").slash(segment()).slash("resume"), id ->
                post(() -> completeWithFuture(streams.resume(id, req)))),
            path(segment("streams").slash(segment()), id -> get(() -> completeWithFuture(streams.status(id,
                GatewayAuth.Caller.of(req))))),
            path(segment("models").slash(PathMatchers.remaining()),
                rest -> get(() -> completeWithFuture(models.one(ModelRoutes.modelId(req))))),
            cacheRoutes.route(),
            keyRoutes.route(),
            adminRoutes.route(),
            embeddings.route(),
            responses.route(),
            sessionRoutes == null ? reject() : sessionRoutes.route(req)))))))));
    return settings.accessLog() ? accessLog(inner) : inner;
  }

  /**
   * The model routes for Anthropic's clients (a request with {@code anthropic-version}): Anthropic's shapes, the key
   * also in {@code x-api-key}, errors in Anthropic's shape. Other requests pass on to the OpenAI-shaped routes.
   */
  private Route anthropicModels() {
    return optionalHeaderValueByName("anthropic-version", version -> version.isEmpty() ? reject()
        : get(() -> extractRequest(req -> concat(
            path("models", () -> completeWithFuture(auth.authorized(req, true, models::listAnthropic))),
            path(segment("models").slash(PathMatchers.remaining()), rest -> completeWithFuture(
                auth.authorized(req, true, r -> models.oneAnthropic(ModelRoutes.modelId(r)))))))));
  }

  /** {@code inner} for requests that pass the key check; the 401 for the others. */
  private Route authenticated(java.util.function.Supplier<Route> inner) {
    return extractRequest(req -> onSuccess(auth.caller(req, false).handle((c, err) -> err != null ? err : c),
        result -> result instanceof GatewayAuth.Caller c
            ? mapRequest(r -> {
              GatewayTracing.caller(GatewayTracing.of(r), c);
              return r.addAttribute(GatewayAuth.CALLER, c);
            }, inner)
            : completeWithFuture(auth.refused(req, GatewayAuth.denied((Throwable) result)))));
  }

  private Route accessLog(Route inner) {
    return extractRequest(plain -> {
      long start = System.nanoTime();
      HttpRequest req = plain.addAttribute(GatewayAuth.NOTE, new GatewayAuth.AccessNote());
      return mapRequest(r -> req, () -> mapResponse(resp -> logAccess(req, start, resp), () -> inner));
    });
  }

  private static HttpResponse logAccess(HttpRequest req, long start, HttpResponse resp) {
    if (ACCESS.isInfoEnabled()) {
      long micros = (System.nanoTime() - start) / 1000;
      GatewayAuth.AccessNote note = GatewayAuth.AccessNote.of(req);
      ACCESS.info("{} {} {} {}.{} ms{}", req.method().value(), req.getUri().path(), resp.status().intValue(),
          micros / 1000, String.valueOf(1000 + micros % 1000 / 10).substring(2), note == null ? "" : note.suffix());
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
}
