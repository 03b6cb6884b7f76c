package io.pekkollm.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.ContextKey;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.net.URI;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * OpenTelemetry tracing of one client: a span per call ({@link #startCall}, or the gateway's SERVER span when the
 * call runs inside one), a CLIENT span per attempt with the GenAI semantic conventions, sampled journal-write
 * spans, and the W3C {@code traceparent} sent upstream.
 *
 * <p>Off ({@link #off()}) nothing is made: {@link #startCall} answers {@link CallTrace#NONE} without allocating,
 * unless the caller's {@link Context} carries a valid span context (a client's {@code traceparent} the gateway
 * was sent, or an embedding application's own span), which is then passed on upstream as it is, with no span of
 * ours. Thread-safe. {@link #close()} flushes and shuts down an SDK this object made itself (never one it was
 * given).
 */
public final class Tracing implements AutoCloseable {
  private static final String SCOPE = "io.pekkollm";
  /** The gateway's SERVER span, in a context: a call inside it reports to that span instead of making its own. */
  private static final ContextKey<ServerSpan> SERVER_SPAN = ContextKey.named("pekko-llm-server-span");
  private static final Tracing OFF = new Tracing(null, W3CTraceContextPropagator.getInstance(), TracingSettings.OFF,
      null);

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final TracingSettings settings;
  private final OpenTelemetrySdk owned;
  /** Per provider, the attributes every attempt span of it carries: made once. */
  private final Map<String, Attributes> providerAttributes = new ConcurrentHashMap<>();

  private Tracing(Tracer tracer, TextMapPropagator propagator, TracingSettings settings, OpenTelemetrySdk owned) {
    this.tracer = tracer;
    this.propagator = propagator;
    this.settings = settings;
    this.owned = owned;
  }

  /** No tracing (a client's trace context is still passed upstream). */
  public static Tracing off() {
    return OFF;
  }

  /** Tracing into {@code openTelemetry} (an embedding application's own; not closed by {@link #close()}). */
  public static Tracing create(OpenTelemetry openTelemetry, TracingSettings settings) {
    return new Tracing(openTelemetry.getTracer(SCOPE), openTelemetry.getPropagators().getTextMapPropagator(),
        settings, null);
  }

  /**
   * The tracing {@code settings} ask for: {@link #off()}, or an SDK configured from the standard {@code OTEL_*}
   * variables and {@code otel.*} system properties (OTLP over HTTP to {@code OTEL_EXPORTER_OTLP_ENDPOINT} with a
   * batch span processor; service name {@code pekko-llm} unless {@code OTEL_SERVICE_NAME} says otherwise; W3C
   * trace context). This SDK exports traces only.
   */
  public static Tracing fromSettings(TracingSettings settings) {
    if (!settings.enabled()) {
      return OFF;
    }
    OpenTelemetrySdk sdk;
    try {
      sdk = AutoConfiguredOpenTelemetrySdk.builder()
          // Defaults only: the environment and system properties win over these. OTLP over HTTP (the SDK's own
          // default is gRPC, which needs a sender this jar does not carry: the JDK's HttpClient sends HTTP).
          // Export batches of 2,048 spans (the SDK's default is 512) from a queue of 8,192: each export has a
          // fixed cost (an HTTP request, the resource and scope encoded again), which at a gateway's span rate
          // was about half the CPU tracing costs a request (bench/tools/ExportCost.java).
          .addPropertiesSupplier(() -> Map.of("otel.service.name", "pekko-llm", "otel.metrics.exporter", "none",
              "otel.logs.exporter", "none", "otel.exporter.otlp.protocol", "http/protobuf",
              "otel.bsp.max.export.batch.size", "2048", "otel.bsp.max.queue.size", "8192"))
          .disableShutdownHook()
          .build()
          .getOpenTelemetrySdk();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("tracing cannot be configured from the OTEL_* variables: " + e.getMessage()
          + (e.getCause() == null ? "" : ": " + e.getCause().getMessage())
          + " (OTLP over HTTP is supported: OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or http/json)", e);
    }
    return new Tracing(sdk.getTracer(SCOPE), sdk.getPropagators().getTextMapPropagator(), settings, sdk);
  }

  /** Whether spans are made. */
  public boolean enabled() {
    return tracer != null;
  }

  /** The propagator for {@code traceparent} in and out (W3C trace context when off). */
  public TextMapPropagator propagator() {
    return propagator;
  }

  TracingSettings settings() {
    return settings;
  }

  Tracer tracer() {
    return tracer;
  }

  /**
   * A SERVER span for a gateway request, child of {@code parent} (the context extracted from its headers), or null
   * when off. {@code route} is the route's template or null.
   */
  public Span startServer(Context parent, String method, String path, String route) {
    if (tracer == null) {
      return null;
    }
    var b = tracer.spanBuilder(route == null ? method : method + " " + route).setParent(parent)
        .setSpanKind(SpanKind.SERVER)
        .setAttribute(GenAi.HTTP_METHOD, method)
        .setAttribute(GenAi.URL_PATH, path);
    if (route != null) {
      b.setAttribute(GenAi.HTTP_ROUTE, route);
    }
    return b.startSpan();
  }

  /** {@code parent} with {@code server} current, marked so that calls made in it report to {@code server}. */
  public static Context serverContext(Context parent, Span server) {
    return parent.with(server).with(SERVER_SPAN, new ServerSpan(server));
  }

  /**
   * Records the HTTP status of the SERVER span of {@code serverContext} (made by {@link #serverContext}) and that its
   * response has been sent now. The span ends at this time, but is exported only once every call and attempt made
   * in it has ended too (a streamed call's journal, which reports its cost, can finish after the client's body), so
   * what they report is on it.
   */
  public static void endServer(Context serverContext, int status) {
    ServerSpan server = serverContext.get(SERVER_SPAN);
    if (server == null) {
      return;
    }
    server.span.setAttribute(GenAi.HTTP_STATUS, (long) status);
    if (status >= 500) {
      server.span.setAttribute(GenAi.ERROR_TYPE, Integer.toString(status));
      server.span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR);
    }
    server.responded();
  }

  /** Sets the virtual key id (never the secret) on a SERVER span. */
  public static void keyId(Span server, String keyId) {
    if (keyId != null) {
      server.setAttribute(GenAi.KEY_ID, keyId);
    }
  }

  /**
   * The trace of one call of {@code operation} ({@code chat}, {@code embeddings}) to {@code requestedModel}, in
   * the caller's current {@link Context} (read once, here; everything later gets the trace explicitly).
   */
  public CallTrace startCall(String operation, String requestedModel) {
    Context parent = Context.current();
    if (tracer == null) {
      return CallTrace.passThrough(this, parent);
    }
    ServerSpan server = parent.get(SERVER_SPAN);
    if (server != null && server.hold()) {
      server.span.setAttribute(GenAi.OPERATION, operation);
      server.span.setAttribute(GenAi.REQUEST_MODEL, requestedModel);
      return new CallTrace.Recording(this, server.span, parent, server);
    }
    Span span = tracer.spanBuilder(operation + " " + requestedModel).setParent(parent)
        .setSpanKind(SpanKind.INTERNAL)
        .setAttribute(GenAi.OPERATION, operation)
        .setAttribute(GenAi.REQUEST_MODEL, requestedModel)
        .startSpan();
    return new CallTrace.Recording(this, span, parent.with(span), null);
  }

  /**
   * The attributes of every attempt on {@code provider} (of {@code kind}, at {@code baseUrl}): {@code gen_ai.system},
   * {@code server.address}, {@code server.port}. Made on first use.
   */
  Attributes providerAttributes(String provider, String kind, String baseUrl) {
    Attributes a = providerAttributes.get(provider);
    if (a == null) {
      a = providerAttributes.computeIfAbsent(provider, p -> buildProviderAttributes(p, kind, baseUrl));
    }
    return a;
  }

  private static Attributes buildProviderAttributes(String provider, String kind, String baseUrl) {
    AttributesBuilder b = Attributes.builder().put(GenAi.SYSTEM, kind == null ? provider : kind)
        .put(GenAi.PROVIDER, provider);
    try {
      URI uri = baseUrl == null ? null : URI.create(baseUrl);
      if (uri != null && uri.getHost() != null) {
        b.put(GenAi.SERVER_ADDRESS, uri.getHost());
        int port = uri.getPort() >= 0 ? uri.getPort() : "http".equalsIgnoreCase(uri.getScheme()) ? 80
            : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : -1;
        if (port > 0) {
          b.put(GenAi.SERVER_PORT, (long) port);
        }
      }
    } catch (IllegalArgumentException e) {
      // A base URL that is no URI (a custom provider's placeholder): no server attributes.
    }
    return b.build();
  }

  /** Flushes and shuts down the SDK this object made (waits up to ten seconds); nothing for a given one. */
  @Override
  public void close() {
    if (owned != null) {
      owned.shutdown().join(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** Now, in epoch nanoseconds (as explicit span timestamps take it). */
  static long epochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /**
   * A gateway request's SERVER span and what holds it open: its response, and each call and attempt made in it. It
   * ends, once, when the last of them lets go, with the time its response was sent as its end.
   */
  static final class ServerSpan {
    final Span span;
    private final AtomicInteger open = new AtomicInteger(1);
    private static final java.util.concurrent.atomic.AtomicLongFieldUpdater<ServerSpan> RESPONDED =
        java.util.concurrent.atomic.AtomicLongFieldUpdater.newUpdater(ServerSpan.class, "respondedAt");
    /** When the response was sent, in epoch nanoseconds; 0 until then. */
    private volatile long respondedAt;

    ServerSpan(Span span) {
      this.span = span;
    }

    /** A call or attempt made in this span holds it open; false when the span has ended already. */
    boolean hold() {
      for (int n = open.get(); n > 0; n = open.get()) {
        if (open.compareAndSet(n, n + 1)) {
          return true;
        }
      }
      return false;
    }

    /** The response has been sent: its hold is let go (once: a second call changes nothing). */
    void responded() {
      if (RESPONDED.compareAndSet(this, 0, epochNanos())) {
        release();
      }
    }

    /** Lets go of one hold; the last one ends the span (nothing once it has ended). */
    void release() {
      for (int n = open.get(); n > 0; n = open.get()) {
        if (open.compareAndSet(n, n - 1)) {
          if (n == 1) {
            long at = respondedAt;
            if (at > 0) {
              span.end(at, TimeUnit.NANOSECONDS);
            } else {
              span.end();
            }
          }
          return;
        }
      }
    }
  }
}
