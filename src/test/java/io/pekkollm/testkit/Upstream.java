package io.pekkollm.testkit;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A local upstream for tests: a real Pekko HTTP server on 127.0.0.1 (port 0) in its own ActorSystem. Each
 * request takes the next scripted {@link Reply} (a 500 with a clear message when none is queued), and is
 * recorded. Replies can stream bytes in pieces with a delay, cut the connection, or stream forever; a reply's
 * {@link Reply#terminated()} completes when its body stream ends, so a test sees cancellation reach it.
 *
 * <p>Thread-safe. Close it to unbind and stop its system.
 */
public final class Upstream implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
  private final ConcurrentLinkedQueue<Recorded> recorded = new ConcurrentLinkedQueue<>();
  private volatile Reply fallback;
  private final AtomicInteger requestCount = new AtomicInteger();

  /**
   * A request as the upstream received it: {@code path} decoded, header names lower-case; the
   * {@code raw-request-uri} header holds the request target exactly as sent, {@code content-type} the body's;
   * {@code query} is the raw query string ("" when none).
   */
  public record Recorded(String method, String path, Map<String, String> headers, String body, String query) {}

  public Upstream() {
    // raw-request-uri-header: tests can see the request target exactly as sent (percent-encoding intact).
    // Headers Pekko cannot model (AWS SigV4's Authorization) are kept raw; no need to warn about each.
    this.system = ActorSystem.create(Behaviors.empty(), "upstream", com.typesafe.config.ConfigFactory
        .parseString("pekko.http.server.raw-request-uri-header = on\n"
            + "pekko.http.server.parsing.illegal-header-warnings = off")
        .withFallback(io.pekkollm.api.LlmConfig.load()));
    try {
      this.binding = Http.get(system).newServerAt("127.0.0.1", 0)
          .bind(this::handle)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("upstream did not bind", e);
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** {@code http://127.0.0.1:<port>} + {@code path}. */
  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  public Upstream enqueue(Reply reply) {
    replies.add(reply);
    return this;
  }

  /** The reply used when the queue is empty (for load tests); null restores the 500. */
  public Upstream always(Reply reply) {
    this.fallback = reply;
    return this;
  }

  public List<Recorded> requests() {
    return new ArrayList<>(recorded);
  }

  public int requestCount() {
    return requestCount.get();
  }

  public void reset() {
    replies.clear();
    recorded.clear();
    requestCount.set(0);
    fallback = null;
  }

  private java.util.concurrent.CompletionStage<HttpResponse> handle(HttpRequest req) {
    requestCount.incrementAndGet();
    return req.entity().toStrict(10_000, system).<Object>thenApply(strict -> {
      Map<String, String> headers = new java.util.HashMap<>();
      req.getHeaders().forEach(h -> headers.put(h.lowercaseName(), h.value()));
      if (!strict.getData().isEmpty()) {
        // Pekko models the content type as part of the entity, not as a header.
        headers.put("content-type", strict.getContentType().toString());
      }
      recorded.add(new Recorded(req.method().value(), req.getUri().path(), headers,
          strict.getData().utf8String(), req.getUri().rawQueryString().orElse("")));
      Reply r = replies.poll();
      if (r == null) {
        r = fallback;
      }
      if (r == null) {
        return HttpResponse.create().withStatus(StatusCodes.INTERNAL_SERVER_ERROR)
            .withEntity("{\"error\":{\"message\":\"test upstream: no reply scripted\",\"type\":\"test\"}}");
      }
      return r;
    }).thenCompose(r -> {
      if (r instanceof HttpResponse resp) {
        return CompletableFuture.completedFuture(resp);
      }
      Reply reply = (Reply) r;
      if (reply.responseDelay().isZero()) {
        return CompletableFuture.completedFuture(reply.toResponse());
      }
      return org.apache.pekko.pattern.Patterns.after(reply.responseDelay(), system.classicSystem().scheduler(),
          system.executionContext(), () -> CompletableFuture.completedFuture(reply.toResponse()));
    });
  }

  @Override
  public void close() {
    binding.unbind();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  /** One scripted answer. Build with the static factories, adjust with the {@code withX} methods. */
  public static final class Reply {
    private final int status;
    private final ContentType contentType;
    private final byte[] body;
    private final Map<String, String> headers;
    private final int pieceSize;
    private final Duration pieceDelay;
    private final boolean abortAtEnd;
    private final boolean endless;
    private boolean closeDelimited;
    private Duration responseDelay = Duration.ZERO;
    private int gateAt = -1;
    private java.util.concurrent.CompletionStage<?> gate;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private Reply(int status, ContentType contentType, byte[] body, Map<String, String> headers, int pieceSize,
        Duration pieceDelay, boolean abortAtEnd, boolean endless) {
      this.status = status;
      this.contentType = contentType;
      this.body = body;
      this.headers = headers;
      this.pieceSize = pieceSize;
      this.pieceDelay = pieceDelay;
      this.abortAtEnd = abortAtEnd;
      this.endless = endless;
    }

    public static Reply json(int status, String body) {
      return new Reply(status, ContentTypes.APPLICATION_JSON, body.getBytes(StandardCharsets.UTF_8), Map.of(), 0,
          Duration.ZERO, false, false);
    }

    public static Reply fixtureJson(int status, String fixture) {
      return new Reply(status, ContentTypes.APPLICATION_JSON, Fixtures.bytes(fixture), Map.of(), 0, Duration.ZERO,
          false, false);
    }

    public static Reply sse(byte[] body) {
      return new Reply(200, MediaTypes.TEXT_EVENT_STREAM.toContentType(), body, Map.of(), 0, Duration.ZERO, false,
          false);
    }

    public static Reply fixtureSse(String fixture) {
      return sse(Fixtures.bytes(fixture));
    }

    /** Any body with any content type, e.g. NDJSON or binary AWS event-stream messages. */
    public static Reply bytes(int status, ContentType contentType, byte[] body) {
      return new Reply(status, contentType, body, Map.of(), 0, Duration.ZERO, false, false);
    }

    /** Repeats the bytes of {@code event} forever, one every {@code interval}, until the client goes away. */
    public static Reply endless(ContentType contentType, byte[] event, Duration interval) {
      return new Reply(200, contentType, event, Map.of(), 0, interval, false, true);
    }

    /** Repeats {@code event} forever, one every {@code interval}, until the client goes away. */
    public static Reply endlessSse(String event, Duration interval) {
      return new Reply(200, MediaTypes.TEXT_EVENT_STREAM.toContentType(), event.getBytes(StandardCharsets.UTF_8),
          Map.of(), 0, interval, false, true);
    }

    /** The same reply with another HTTP status (e.g. an error answered with a text/event-stream type). */
    public Reply withStatus(int value) {
      return new Reply(value, contentType, body, headers, pieceSize, pieceDelay, abortAtEnd, endless);
    }

    public Reply withHeaders(Map<String, String> value) {
      return new Reply(status, contentType, body, value, pieceSize, pieceDelay, abortAtEnd, endless);
    }

    /** Sends the body in pieces of {@code size} bytes, {@code delay} apart. */
    public Reply inPieces(int size, Duration delay) {
      return new Reply(status, contentType, body, headers, size, delay, abortAtEnd, endless);
    }

    /** Keeps only the first {@code bytes} of the body and then cuts the connection. */
    public Reply cutAfter(int bytes) {
      byte[] cut = java.util.Arrays.copyOf(body, Math.min(bytes, body.length));
      return new Reply(status, contentType, cut, headers, pieceSize, pieceDelay, true, endless);
    }

    /**
     * Sends only the first {@code bytes} of the body, then closes the connection cleanly (no chunked terminator,
     * no reset): the client reads everything sent, then sees the body end early. Deterministic, unlike a reset,
     * which discards what the client had not read yet.
     */
    public Reply truncatedAfter(int bytes) {
      byte[] cut = java.util.Arrays.copyOf(body, Math.min(bytes, body.length));
      Reply r = new Reply(status, contentType, cut, headers, pieceSize == 0 ? cut.length : pieceSize, pieceDelay, false,
          endless);
      r.closeDelimited = true;
      return r;
    }

    /**
     * Answers only after {@code delay} (real time, the upstream's own clock): nothing, not even the status line,
     * reaches the client before, as with a provider slow to start its answer.
     */
    public Reply delayedBy(Duration delay) {
      Reply r = new Reply(status, contentType, body, headers, pieceSize, pieceDelay, abortAtEnd, endless);
      r.closeDelimited = closeDelimited;
      r.responseDelay = delay;
      return r;
    }

    /**
     * Sends the first {@code bytes} of the body at once and the rest only when {@code gate} completes: a provider
     * that has answered its first event and not yet its next, for as long as a test wants.
     */
    public Reply gatedAfter(int bytes, java.util.concurrent.CompletionStage<?> gate) {
      Reply r = new Reply(status, contentType, body, headers, pieceSize, pieceDelay, abortAtEnd, endless);
      r.closeDelimited = closeDelimited;
      r.responseDelay = responseDelay;
      r.gateAt = bytes;
      r.gate = gate;
      return r;
    }

    Duration responseDelay() {
      return responseDelay;
    }

    /** Completes when this reply's body stream ended: finished, failed, or cancelled by the client. */
    public CompletableFuture<Void> terminated() {
      return terminated;
    }

    HttpResponse toResponse() {
      Source<ByteString, NotUsed> src;
      if (endless) {
        ByteString ev = ByteString.fromArray(body);
        src = Source.repeat(ev).throttle(1, pieceDelay);
      } else if (pieceSize > 0) {
        List<ByteString> pieces = new ArrayList<>();
        for (int i = 0; i < body.length; i += pieceSize) {
          pieces.add(ByteString.fromArray(body, i, Math.min(pieceSize, body.length - i)));
        }
        src = Source.from(pieces);
        if (!pieceDelay.isZero()) {
          src = src.throttle(1, pieceDelay);
        }
      } else if (gate != null) {
        int at = Math.min(gateAt, body.length);
        java.util.concurrent.CompletionStage<?> g = gate;
        src = Source.single(ByteString.fromArray(body, 0, at))
            .concat(Source.completionStage(g.thenApply(x -> ByteString.fromArray(body, at, body.length - at))));
      } else {
        src = Source.single(ByteString.fromArray(body));
      }
      if (abortAtEnd) {
        src = src.concatLazy(Source.lazySource(() -> Source.failed(new RuntimeException("test upstream cuts the connection"))));
      }
      src = src.watchTermination((mat, done) -> {
        done.whenComplete((d, e) -> terminated.complete(null));
        return mat;
      });
      // Providers use codes Pekko does not register (Anthropic's 529 overloaded): send those as custom codes.
      HttpResponse resp = HttpResponse.create().withStatus(StatusCodes.lookup(status)
          .orElseGet(() -> StatusCodes.custom(status, "Status " + status, "", status < 400, true)));
      for (Map.Entry<String, String> h : headers.entrySet()) {
        resp = resp.addHeader(RawHeader.create(h.getKey(), h.getValue()));
      }
      boolean chunked = endless || pieceSize > 0 || abortAtEnd || gate != null;
      if (!chunked) {
        terminated.complete(null);
      }
      if (closeDelimited) {
        return resp.withEntity(HttpEntities.createCloseDelimited(contentType, src));
      }
      return chunked ? resp.withEntity(HttpEntities.create(contentType, src))
          : resp.withEntity(HttpEntities.create(contentType, body));
    }
  }

}
