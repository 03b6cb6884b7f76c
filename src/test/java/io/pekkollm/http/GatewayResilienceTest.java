package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** What a gateway client sees of the resilience features: statuses, Retry-After, served models, /metrics. */
class GatewayResilienceTest {
  private static final String OK = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{"
      + "\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";
  private static final String ERROR_500 = "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}";

  private static String body(String model, String extra) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]" + extra + "}";
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.parse(r.body());
  }

  private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }

  @Test
  void returns429WithRetryAfterWhenTheQueueIsFull() throws Exception {
    try (GatewayFixture gw = new GatewayFixture(
        "pekko-llm.providers.openai { max-in-flight = 1, rate-limit.queue-size = 0 }")) {
      gw.upstream.enqueue(Reply.json(200, OK).delayedBy(Duration.ofSeconds(2)));
      gw.http.sendAsync(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/chat/completions"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              body("openai/m", ""))).build(), HttpResponse.BodyHandlers.ofString());
      eventually("the first call reached the upstream", () -> gw.upstream.requestCount() == 1);
      HttpResponse<String> refused = gw.post("/v1/chat/completions", body("openai/m", ""));
      assertEquals(429, refused.statusCode(), refused.body());
      assertTrue(refused.headers().firstValue("Retry-After").isPresent(), "the gateway says when to come back");
      JsonNode error = json(refused).get("error");
      assertEquals("queue_full", error.get("code").asText());
      assertEquals("rate_limit_error", error.get("type").asText());
      assertEquals(1, gw.upstream.requestCount(), "the refused call never reached the provider");
    }
  }

  @Test
  void anOpenBreakerAnswers503WithRetryAfterNamingTheProvider() throws Exception {
    try (GatewayFixture gw = new GatewayFixture(
        "pekko-llm.providers.openai.circuit-breaker { enabled = on, max-failures = 1, reset-timeout = 1h }")) {
      gw.upstream.always(Reply.json(500, ERROR_500));
      assertEquals(500, gw.post("/v1/chat/completions", body("openai/m", "")).statusCode());
      eventually("the breaker opened", () -> breaker(gw).get("state").asText().equals("open"));
      HttpResponse<String> open = gw.post("/v1/chat/completions", body("openai/m", ",\"stream\":true"));
      assertEquals(503, open.statusCode(), open.body());
      long retryAfter = Long.parseLong(open.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retryAfter > 3500 && retryAfter <= 3600, "Retry-After " + retryAfter);
      JsonNode error = json(open).get("error");
      assertEquals("circuit_open", error.get("code").asText());
      assertTrue(error.get("message").asText().contains("'openai'"), error.toString());
      assertEquals(1, gw.upstream.requestCount());
      assertTrue(breaker(gw).get("retry_after_ms").asLong() > 3_500_000);
    }
  }

  private static JsonNode breaker(GatewayFixture gw) {
    return provider(gw, "openai").get("circuit_breaker");
  }

  private static JsonNode provider(GatewayFixture gw, String name) {
    try {
      for (JsonNode p : json(gw.get("/health/providers")).get("providers")) {
        if (p.get("name").asText().equals(name)) {
          return p;
        }
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("no provider " + name);
  }

  @Test
  void aGroupAnswersFromItsNextModelAndNamesIt() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.routing.groups.fast = [\"openai/m\", \"mock/echo\"]")) {
      gw.upstream.always(Reply.json(503, ERROR_500));
      HttpResponse<String> whole = gw.post("/v1/chat/completions", body("fast", ""));
      assertEquals(200, whole.statusCode(), whole.body());
      assertEquals("mock/echo", json(whole).get("model").asText());
      assertEquals("mock/echo", whole.headers().firstValue("X-Served-Model").orElseThrow());
      assertEquals("hello there", json(whole).at("/choices/0/message/content").asText());

      HttpResponse<String> streamed = gw.post("/v1/chat/completions", body("fast", ",\"stream\":true"));
      assertEquals(200, streamed.statusCode(), streamed.body());
      assertEquals("mock/echo", streamed.headers().firstValue("X-Served-Model").orElseThrow());
      assertTrue(streamed.body().contains("\"model\":\"mock/echo\""), streamed.body());
      assertTrue(streamed.body().endsWith("data: [DONE]\n\n"), streamed.body());

      JsonNode models = json(gw.get("/v1/models")).get("data");
      boolean listed = false;
      for (JsonNode m : models) {
        listed |= m.get("id").asText().equals("fast") && m.at("/group/models/1").asText().equals("mock/echo");
      }
      assertTrue(listed, "the group is listed with its members");
      assertEquals("ordered", json(gw.get("/v1/models/fast")).at("/group/strategy").asText());
    }
  }

  @Test
  void theRetryBodyFieldSetsTheAttemptsOfOneRequest() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.providers.openai.retry.initial-backoff = 0s")) {
      gw.upstream.enqueue(Reply.json(500, ERROR_500)).enqueue(Reply.json(200, OK));
      HttpResponse<String> retried = gw.post("/v1/chat/completions",
          body("openai/m", ",\"retry\":{\"max_attempts\":2}"));
      assertEquals(200, retried.statusCode(), retried.body());
      assertEquals(2, gw.upstream.requestCount());
      assertTrue(!gw.upstream.requests().get(0).body().contains("retry"), "the option is never sent upstream");

      gw.upstream.reset();
      gw.upstream.always(Reply.json(500, ERROR_500));
      assertEquals(500, gw.post("/v1/chat/completions", body("openai/m", ",\"retry\":false")).statusCode());
      assertEquals(1, gw.upstream.requestCount());

      HttpResponse<String> bad = gw.post("/v1/chat/completions", body("openai/m", ",\"retry\":\"often\""));
      assertEquals(400, bad.statusCode());
      assertEquals("retry", json(bad).at("/error/param").asText());
    }
  }

  @Test
  void metricsAreServedInPrometheusTextAndHealthShowsLatency() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("")) {
      gw.upstream.always(Reply.json(200, OK));
      assertEquals(200, gw.post("/v1/chat/completions", body("openai/m", "")).statusCode());
      eventually("the call is accounted", () -> provider(gw, "openai").has("latency_ms"));
      HttpResponse<String> metrics = gw.get("/metrics");
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
      assertTrue(metrics.body().contains("pekko_llm_requests_total{model=\"m\",outcome=\"success\",provider=\"openai\"} 1"),
          metrics.body());
      assertTrue(metrics.body().contains("# TYPE pekko_llm_request_duration_seconds histogram"), metrics.body());
      // A streamed answer is journalled: the journal's write latency is measured.
      gw.upstream.always(Reply.sse(("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},"
          + "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      assertEquals(200, gw.post("/v1/chat/completions", body("openai/m", ",\"stream\":true")).statusCode());
      eventually("the journal write is measured", () -> {
        try {
          return gw.get("/metrics").body().matches("(?s).*pekko_llm_journal_write_seconds_count [1-9].*");
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      eventually("the stream is accounted", () -> provider(gw, "openai").at("/latency_ms/samples").asInt() == 2);
      JsonNode openai = provider(gw, "openai");
      assertEquals("disabled", openai.at("/circuit_breaker/state").asText(), "tests run with breakers off");
      assertEquals(0, openai.get("queued").asInt());
      assertEquals(2, openai.at("/latency_ms/samples").asInt());
      assertEquals(0.0, openai.at("/recent/error_rate").asDouble());
    }
  }

  @Test
  void metricsNeedTheApiKeyWhenOneIsSet() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.api-key = \"s3cret\"")) {
      assertEquals(401, gw.get("/metrics").statusCode());
      assertEquals(200, gw.get("/metrics", "Authorization", "Bearer s3cret").statusCode());
    }
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.metrics = off")) {
      assertEquals(404, gw.get("/metrics").statusCode());
    }
  }

  @Test
  void anUpstream429KeepsItsRetryAfterThroughTheGateway() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("")) {
      gw.upstream.enqueue(Reply.json(429, ERROR_500).withHeaders(Map.of("retry-after", "7")));
      HttpResponse<String> limited = gw.post("/v1/chat/completions", body("openai/m", ""));
      assertEquals(429, limited.statusCode());
      assertEquals("7", limited.headers().firstValue("Retry-After").orElseThrow());
    }
  }
}
