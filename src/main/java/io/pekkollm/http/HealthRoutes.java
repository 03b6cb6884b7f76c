package io.pekkollm.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.provider.ProviderStatus;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * Health and operations: {@code GET /health} (liveness, 503 while the journal cannot be used; open for probes,
 * see {@link HealthCheck}), {@code GET /health/providers} (each provider's state) and {@code GET /metrics}
 * (Prometheus text); the last two need the API key when one is set.
 */
final class HealthRoutes {
  // The Prometheus text exposition format, version 0.0.4.
  private static final ContentType PROMETHEUS_TEXT = ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  private final LlmClient client;
  private final GatewaySettings settings;

  HealthRoutes(LlmClient client, GatewaySettings settings) {
    this.client = client;
    this.settings = settings;
  }

  CompletionStage<HttpResponse> health() {
    return HealthCheck.of(client);
  }

  /** {@code GET /health/ready}: readiness, in cluster mode also this node's membership ({@link HealthCheck#ready}). */
  CompletionStage<HttpResponse> ready() {
    return HealthCheck.ready(client);
  }

  /**
   * Per provider: enabled, circuit breaker (state, Retry-After while open, per-model breakers that are not
   * closed), in-flight and queued calls, recent error rate (provider faults among the latest 100 calls),
   * latency and time-to-first-chunk percentiles of the latest 256 calls, the last error, and the latest active
   * health check when one is configured.
   */
  CompletionStage<HttpResponse> providers() {
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
  HttpResponse metrics() {
    Optional<String> text = settings.metrics() ? client.metrics().scrape() : Optional.empty();
    if (text.isEmpty()) {
      return ErrorResponses.simple(ErrorKind.NOT_FOUND, 404,
          "metrics are disabled (pekko-llm.metrics.enabled, pekko-llm.gateway.metrics)", null);
    }
    return HttpResponse.create().withEntity(HttpEntities.create(PROMETHEUS_TEXT,
        text.get().getBytes(StandardCharsets.UTF_8)));
  }
}
