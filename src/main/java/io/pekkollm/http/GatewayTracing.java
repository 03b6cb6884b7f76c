package io.pekkollm.http;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.pekkollm.tracing.Tracing;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ResponseEntity;
import org.apache.pekko.http.javadsl.model.AttributeKey;

/**
 * The gateway's side of tracing: a SERVER span per request (child of the client's {@code traceparent}), ended
 * when its response has been sent (for SSE, when the event stream ends), and the request's trace context for the
 * calls its route makes ({@link #enter}). With tracing off, a request that carries a {@code traceparent} still gets
 * its context (no span), so the upstream requests carry the client's trace; one without it is left alone (one scan
 * of its headers, nothing allocated). Thread-safe.
 */
final class GatewayTracing {
  /** The request's trace: its context and its SERVER span (null with tracing off). */
  record Trace(Context context, Span span) {}

  static final AttributeKey<Trace> TRACE = AttributeKey.create("pekko-llm-trace", Trace.class);

  private static final TextMapGetter<HttpRequest> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(HttpRequest req) {
      List<String> names = new java.util.ArrayList<>();
      req.getHeaders().forEach(h -> names.add(h.lowercaseName()));
      return names;
    }

    @Override
    public String get(HttpRequest req, String key) {
      return req == null ? null : req.getHeader(key).map(HttpHeader::value).orElse(null);
    }
  };

  private final Tracing tracing;

  GatewayTracing(Tracing tracing) {
    this.tracing = tracing;
  }

  /** {@code req} with its {@link #TRACE}, or {@code req} itself when untraced and without a traceparent. */
  HttpRequest start(HttpRequest req) {
    if (!tracing.enabled()) {
      if (!hasTraceParent(req)) {
        return req;
      }
      return req.addAttribute(TRACE, new Trace(tracing.propagator().extract(Context.root(), req, HEADERS), null));
    }
    Context parent = tracing.propagator().extract(Context.root(), req, HEADERS);
    String path = req.getUri().path();
    Span span = tracing.startServer(parent, req.method().value(), path, route(path));
    return req.addAttribute(TRACE, new Trace(Tracing.serverContext(parent, span), span));
  }

  /** Ends {@code req}'s SERVER span when {@code resp} has been sent: at once for a strict body, else at its end. */
  static CompletionStage<HttpResponse> finish(HttpRequest req, CompletionStage<HttpResponse> resp) {
    Trace t = req.getAttribute(TRACE).orElse(null);
    if (t == null || t.span() == null) {
      return resp;
    }
    return resp.handle((r, err) -> {
      if (err != null) {
        Tracing.endServer(t.context(), 500);
        throw err instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(err);
      }
      int status = r.status().intValue();
      ResponseEntity entity = r.entity();
      if (entity instanceof HttpEntity.Strict || entity.isKnownEmpty()) {
        Tracing.endServer(t.context(), status);
        return r;
      }
      // The gateway's streamed bodies are chunked (SSE): the same entity, its end watched.
      return r.withEntity(org.apache.pekko.http.javadsl.model.HttpEntities.create(entity.getContentType(),
          entity.getDataBytes().watchTermination((m, done) -> {
            done.whenComplete((d, e) -> Tracing.endServer(t.context(), status));
            return m;
          })));
    });
  }

  /** The trace of {@code req}, or null. */
  static Trace of(HttpRequest req) {
    return req.getAttribute(TRACE).orElse(null);
  }

  /** Makes {@code trace}'s context current (for a client call made now, on this thread); a no-op for null. */
  static Scope enter(Trace trace) {
    return trace == null ? Scope.noop() : trace.context().makeCurrent();
  }

  /** Records who called (the virtual key id) on the request's SERVER span. */
  static void caller(Trace trace, GatewayAuth.Caller caller) {
    if (trace != null && trace.span() != null && caller.key() != null) {
      Tracing.keyId(trace.span(), caller.key().id());
    }
  }

  private static boolean hasTraceParent(HttpRequest req) {
    // Indexed over the Scala headers: no iterator, no Optional, no lower-casing of names.
    scala.collection.immutable.Seq<org.apache.pekko.http.scaladsl.model.HttpHeader> headers =
        ((org.apache.pekko.http.scaladsl.model.HttpRequest) req).headers();
    for (int i = 0, n = headers.length(); i < n; i++) {
      if (headers.apply(i).is("traceparent")) {
        return true;
      }
    }
    return false;
  }

  /** The route template of {@code path} for span names (ids left out), or null: the span is named by method only. */
  private static String route(String path) {
    return switch (path) {
      case "/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens", "/v1/responses", "/v1/embeddings",
          "/v1/models", "/metrics", "/health/ready", "/health/providers" -> path;
      default -> path.startsWith("/v1/streams/") ? (path.endsWith("/resume") ? "/v1/streams/{id}/resume"
          : "/v1/streams/{id}") : null;
    };
  }

}
