package io.pekkollm.provider;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.resilience.RateLimitHeaders;
import io.pekkollm.stream.DeferredSource;
import io.pekkollm.stream.Frames;
import io.pekkollm.stream.Framing;
import io.pekkollm.stream.MalformedFrameException;
import io.pekkollm.util.Futures;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Base of every provider that speaks HTTP: it sends the request through a connection pool sized for this
 * provider, turns error statuses into classified errors, frames the body (SSE, NDJSON or AWS event-stream),
 * and guards against truncated streams. A subclass supplies only the translation: {@link #toHttpRequest},
 * {@link #newDecoder}, {@link #parseBody} and {@link #errorDetails}.
 *
 * <p>Thread-safe. Cancelling the returned source cancels the response entity, which closes the upstream
 * connection.
 */
public abstract class HttpChatProvider implements ChatProvider {
  protected final ProviderSettings settings;
  private final io.pekkollm.util.Redactor redactor;
  // Null unless pekko-llm.logging.bodies is on: then each exchange is logged, redacted.
  private final BodyLog bodyLog;
  protected final ActorSystem<?> system;
  protected final Clock clock;
  private final Http http;
  private final ConnectionPoolSettings pool;
  private final Frames frames;
  private final Duration connectTimeout;
  private volatile BiConsumer<String, RateLimitHeaders.Learned> rateLimitObserver;

  protected HttpChatProvider(ProviderSettings settings, ActorSystem<?> system) {
    this.settings = settings;
    this.redactor = settings.redactor();
    this.bodyLog = BodyLog.create(settings.name(), settings.logging(), redactor);
    this.system = system;
    this.clock = Clock.systemUTC();
    this.http = Http.get(system);
    ConnectionPoolSettings defaults = ConnectionPoolSettings.create(system.classicSystem());
    Duration connect = settings.resilience().timeouts().connect();
    // Pekko's connecting-timeout must be finite; "0 = no limit" becomes its own default (10 s).
    this.connectTimeout = connect.isZero()
        ? Duration.ofNanos(defaults.getConnectionSettings().getConnectingTimeout().toNanos()) : connect;
    this.pool = defaults
        .withConnectionSettings(defaults.getConnectionSettings().withConnectingTimeout(connectTimeout))
        .withMaxConnections(settings.maxConnections())
        .withMaxOpenRequests(nextPowerOfTwo(Math.max(settings.maxInFlight(), settings.maxConnections())))
        .withMaxRetries(0);
    this.frames = new Frames(system);
  }

  @Override
  public String name() {
    return settings.name();
  }

  public ProviderSettings settings() {
    return settings;
  }

  /** Builds the upstream request. May throw {@link LlmException} for a request this provider cannot express. */
  protected abstract HttpRequest toHttpRequest(ChatRequest request, boolean streaming);

  /** A fresh decoder for one streamed response. */
  protected abstract StreamDecoder newDecoder(ChatRequest request);

  /** Parses a complete (non-streamed) response body into chunks. */
  protected abstract List<ChatChunk> parseBody(String body);

  /** Extracts the provider's own error fields from an error body. */
  protected ErrorClassifier.ErrorDetails errorDetails(int status, String body) {
    return ErrorClassifier.parseCommonBody(body);
  }

  /**
   * Like {@link #errorDetails(int, String)}, for providers that name the error in a response header (AWS
   * puts it in {@code x-amzn-ErrorType}). {@code headers} have lower-case names.
   */
  protected ErrorClassifier.ErrorDetails errorDetails(int status, Map<String, String> headers, String body) {
    return errorDetails(status, body);
  }

  protected Framing framing() {
    return Framing.SSE;
  }

  @Override
  public void observeRateLimits(BiConsumer<String, RateLimitHeaders.Learned> observer) {
    this.rateLimitObserver = observer;
  }

  /** Reports the response's rate-limit headers, if any, to the observer: one pass over the header names. */
  private void reportRateLimits(HttpResponse response, ChatRequest request) {
    BiConsumer<String, RateLimitHeaders.Learned> observer = rateLimitObserver;
    if (observer == null) {
      return;
    }
    Map<String, String> found = null;
    for (HttpHeader h : response.getHeaders()) {
      String name = h.lowercaseName();
      if (RateLimitHeaders.isRateLimitHeader(name)) {
        if (found == null) {
          found = new HashMap<>();
        }
        found.putIfAbsent(name, h.value());
      }
    }
    if (found != null) {
      RateLimitHeaders.Learned learned = RateLimitHeaders.parse(found, clock.instant());
      if (learned != null) {
        observer.accept(request.model(), learned);
      }
    }
  }

  /**
   * Sends the request when the source is run and emits the answer's chunks: one inner stream (the response
   * body's), since every stream nested on the per-chunk path costs an interpreter event per chunk.
   */
  @Override
  public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming) {
    return stream(request, streaming, Map.of());
  }

  /** {@link #embed(io.pekkollm.model.EmbeddingRequest, Map)} without extra headers. */
  @Override
  public final CompletionStage<io.pekkollm.model.EmbeddingResponse> embed(io.pekkollm.model.EmbeddingRequest request) {
    return embed(request, Map.of());
  }

  /** An HTTP provider with an embeddings API overrides this (with {@link #embedWith}); the default has none. */
  @Override
  public CompletionStage<io.pekkollm.model.EmbeddingResponse> embed(io.pekkollm.model.EmbeddingRequest request,
      Map<String, String> headers) {
    return ChatProvider.noEmbeddings(name());
  }

  @Override
  public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming, Map<String, String> headers) {
    return DeferredSource.of(() -> exchange(request, streaming, headers,
        (r, log) -> handle(r, request, streaming, log)));
  }

  /**
   * Builds and sends the request (logged when bodies are logged) and gives the response, with its body log (null
   * when off), to {@code then}; the response's rate-limit headers are reported.
   */
  private <T> CompletionStage<T> exchange(ChatRequest request, boolean streaming, Map<String, String> headers,
      java.util.function.BiFunction<HttpResponse, BodyLog.Exchange, T> then) {
    HttpRequest httpRequest;
    try {
      httpRequest = withHeaders(toHttpRequest(request, streaming), headers);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    BodyLog.Exchange log = bodyLog == null ? null : bodyLog.start(httpRequest);
    CompletionStage<HttpResponse> sent = send(httpRequest);
    if (log != null) {
      sent = sent.whenComplete((r, err) -> {
        if (err != null) {
          log.failed(Futures.cause(err));
        }
      });
    }
    return sent.thenApply(response -> {
      reportRateLimits(response, request);
      return then.apply(response, log);
    });
  }

  /**
   * A per-response rewrite of the chunks (one chunk in, any number out), or null for none: for a provider whose
   * wire answer needs reshaping, applied alike to streamed and whole answers. Called once per response.
   */
  protected java.util.function.Function<ChatChunk, List<ChatChunk>> chunkTransform(ChatRequest request) {
    return null;
  }

  /**
   * One HTTP exchange and a parse, with no stream to run when the body arrived whole (the usual case): the
   * non-streaming path's cost is mostly materializing streams otherwise.
   */
  @Override
  public CompletionStage<List<ChatChunk>> complete(ChatRequest request, Materializer materializer) {
    return complete(request, materializer, Map.of());
  }

  @Override
  public CompletionStage<List<ChatChunk>> complete(ChatRequest request, Materializer materializer,
      Map<String, String> headers) {
    return exchange(request, false, headers, (response, log) -> whole(response, request, log))
        .thenCompose(java.util.function.Function.identity());
  }

  /**
   * {@code request} with {@code headers} added (trace context); added after a subclass built (and, for AWS, signed)
   * it: SigV4 signs only the headers it lists.
   */
  private static HttpRequest withHeaders(HttpRequest request, Map<String, String> headers) {
    if (headers.isEmpty()) {
      return request;
    }
    HttpRequest out = request;
    for (Map.Entry<String, String> h : headers.entrySet()) {
      out = out.addHeader(org.apache.pekko.http.javadsl.model.headers.RawHeader.create(h.getKey(), h.getValue()));
    }
    return out;
  }

  /** A response read whole: its chunks, or its error status (or error-only body) as a classified error. */
  private CompletionStage<List<ChatChunk>> whole(HttpResponse response, ChatRequest request, BodyLog.Exchange log) {
    int status = response.status().intValue();
    return readBody(response.entity()).thenApply(body -> {
      if (log != null) {
        log.response(response, body);
      }
      if (status < 200 || status > 299) {
        throw httpError(status, response, body);
      }
      return transformAll(request, parseBodyOrError(status, response, body));
    });
  }

  private LlmException httpError(int status, HttpResponse response, String body) {
    Map<String, String> headers = headers(response);
    // An upstream may echo the credentials it was sent: they never reach callers, logs or /health/providers.
    String safe = redactor.redact(body);
    return ErrorClassifier.fromHttp(name(), status, headers, safe, errorDetails(status, headers, safe),
        clock.instant());
  }

  private List<ChatChunk> transformAll(ChatRequest request, List<ChatChunk> chunks) {
    java.util.function.Function<ChatChunk, List<ChatChunk>> transform = chunkTransform(request);
    if (transform == null) {
      return chunks;
    }
    List<ChatChunk> out = new java.util.ArrayList<>(chunks.size());
    for (ChatChunk c : chunks) {
      out.addAll(transform.apply(c));
    }
    return out;
  }

  /** Sends a request through this provider's pool; transport failures become classified errors. */
  protected CompletionStage<HttpResponse> send(HttpRequest request) {
    CompletionStage<HttpResponse> sent;
    try {
      sent = http.singleRequest(request, http.defaultClientHttpsContext(), pool, system.classicSystem().log());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(ErrorClassifier.transport(name(), e, connectTimeout));
    }
    return sent.handle((resp, err) -> {
      if (err != null) {
        throw ErrorClassifier.transport(name(), err, connectTimeout);
      }
      return resp;
    });
  }

  private Source<ChatChunk, NotUsed> handle(HttpResponse response, ChatRequest request, boolean streaming,
      BodyLog.Exchange log) {
    int status = response.status().intValue();
    HttpEntity entity = response.entity();
    boolean isJson = entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON);
    if (status < 200 || status > 299 || !streaming || (isJson && framing() == Framing.SSE)) {
      // An error, a whole answer, or a streaming request answered with one JSON document (an error or a whole
      // completion), as some servers do.
      return Source.completionStage(whole(response, request, log)).mapConcat(l -> l);
    }
    if (log != null) {
      entity = log.streamed(response, entity);
    }
    StreamDecoder decoder = newDecoder(request);
    Source<ChatChunk, NotUsed> chunks = frames.decode(framing(), entity)
        .mapConcat(frame -> decoder.onFrame(frame.eventType(), frame.data()))
        .concatLazy(Source.lazySource(() -> decoder.isComplete()
            ? Source.from(decoder.onEnd())
            : Source.<ChatChunk>failed(ErrorClassifier.truncated(name()))))
        .mapError(Throwable.class, this::classifyStreamFailure);
    java.util.function.Function<ChatChunk, List<ChatChunk>> transform = chunkTransform(request);
    return transform == null ? chunks : chunks.mapConcat(transform::apply);
  }

  private List<ChatChunk> parseBodyOrError(int status, HttpResponse response, String body) {
    // Only a body that mentions "error" is looked at as one (parsing every answer twice cost ~7% of a request).
    if (body.contains("\"error\"")) {
      ErrorClassifier.ErrorDetails details = errorDetails(status, headers(response), body);
      if ((details.message() != null || details.type() != null) && looksLikeErrorOnly(body)) {
        throw httpError(status, response, body);
      }
    }
    try {
      return parseBody(body);
    } catch (LlmException e) {
      throw e;
    } catch (RuntimeException e) {
      throw ErrorClassifier.malformed(name(), e.getMessage(), body, e);
    }
  }

  /** True for a body whose top level is an object with an "error" member and no answer fields. */
  protected boolean looksLikeErrorOnly(String body) {
    try {
      return errorOnly(io.pekkollm.util.Json.parse(body));
    } catch (Exception e) {
      return false;
    }
  }

  /** {@link #looksLikeErrorOnly} of a body already parsed. */
  private static boolean errorOnly(com.fasterxml.jackson.databind.JsonNode root) {
    return root != null && root.isObject() && root.has("error") && !root.has("choices") && !root.has("message");
  }

  private Throwable classifyStreamFailure(Throwable t) {
    if (t instanceof LlmException) {
      return t;
    }
    if (t instanceof MalformedFrameException) {
      return ErrorClassifier.malformed(name(), t.getMessage(), null, t);
    }
    String cls = t.getClass().getName();
    if (cls.contains("EntityStreamSizeException") || cls.contains("Oversized")
        || (t.getMessage() != null && t.getMessage().toLowerCase(Locale.ROOT).contains("exceed"))) {
      return ErrorClassifier.malformed(name(), "a stream event exceeded the size limit: " + t.getMessage(), null, t);
    }
    return ErrorClassifier.streamBroken(name(), t);
  }

  /**
   * Sends a request whose answer is one JSON document (a model list, for example): an error status is
   * classified like any other, a body that is not JSON is a malformed response.
   */
  protected CompletionStage<com.fasterxml.jackson.databind.JsonNode> getJson(HttpRequest request) {
    return send(request).thenCompose(resp -> readBody(resp.entity()).thenApply(body -> {
      int status = resp.status().intValue();
      if (status < 200 || status > 299) {
        throw httpError(status, resp, body);
      }
      try {
        return io.pekkollm.util.Json.parse(body);
      } catch (java.io.IOException e) {
        throw ErrorClassifier.malformed(name(), "the response is not JSON: " + e.getMessage(), body, e);
      }
    }));
  }

  protected CompletionStage<String> readBody(HttpEntity entity) {
    if (entity instanceof HttpEntity.Strict strict && strict.getData().size() <= settings.maxResponseBytes()) {
      // Small bodies usually arrive whole with the headers: no stream to run (each run is an actor to start and stop).
      return CompletableFuture.completedFuture(strict.getData().utf8String());
    }
    return entity.withoutSizeLimit()
        .getDataBytes()
        .limitWeighted(settings.maxResponseBytes(), bs -> (long) bs.size())
        .runFold(ByteString.emptyByteString(), ByteString::concat, system)
        .thenApply(ByteString::utf8String)
        .exceptionally(t -> {
          throw t instanceof LlmException le ? le : ErrorClassifier.transport(name(),
              new IllegalStateException("reading the response body failed (limit "
                  + settings.maxResponseBytes() + " bytes): " + t.getMessage(), t));
        });
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    return CompletableFuture.completedFuture(List.of());
  }

  /** {@code embedding-batch-size} of the provider's settings (the API's limit of inputs per call). */
  @Override
  public int embeddingBatchSize(String model) {
    return settings.config().hasPath("embedding-batch-size")
        ? Math.max(1, settings.config().getInt("embedding-batch-size")) : ChatProvider.super.embeddingBatchSize(model);
  }

  /**
   * An embedding exchange: {@code request} built (it may throw an {@link LlmException}), {@code headers} added, sent, its JSON answer
   * read by {@code read} (given the parsed body and the raw one); errors classified as for chat.
   */
  protected CompletionStage<io.pekkollm.model.EmbeddingResponse> embedWith(
      java.util.function.Supplier<HttpRequest> request, Map<String, String> headers,
      java.util.function.BiFunction<com.fasterxml.jackson.databind.JsonNode, String, io.pekkollm.model.EmbeddingResponse> read) {
    HttpRequest built;
    try {
      built = withHeaders(request.get(), headers);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return send(built).thenCompose(resp -> readBody(resp.entity()).thenApply(body -> {
      int status = resp.status().intValue();
      if (status < 200 || status > 299) {
        throw httpError(status, resp, body);
      }
      com.fasterxml.jackson.databind.JsonNode root;
      try {
        root = io.pekkollm.util.Json.parse(body);
      } catch (java.io.IOException e) {
        throw ErrorClassifier.malformed(name(), "the response is not JSON: " + e.getMessage(), body, e);
      }
      // The tree parsed above, not the body again: an embeddings answer is thousands of numbers.
      if (errorOnly(root)) {
        throw httpError(status, resp, body);
      }
      try {
        return read.apply(root, body);
      } catch (LlmException e) {
        throw e;
      } catch (RuntimeException e) {
        throw ErrorClassifier.malformed(name(), e.getMessage(), body, e);
      }
    }));
  }

  protected static Map<String, String> headers(HttpResponse response) {
    Map<String, String> map = new HashMap<>();
    for (HttpHeader h : response.getHeaders()) {
      map.putIfAbsent(h.lowercaseName(), h.value());
    }
    return map;
  }

  private static int nextPowerOfTwo(int n) {
    int p = 1;
    while (p < n) {
      p <<= 1;
    }
    return Math.min(p, 1 << 16);
  }

}
