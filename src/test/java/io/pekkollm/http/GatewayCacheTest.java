package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The response cache through the gateway: the {@code cache} body field, X-Cache headers, admin routes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayCacheTest {
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() throws Exception {
    gw.upstream.reset();
    assertEquals(200, delete("/v1/cache").statusCode());
  }

  private HttpResponse<String> delete(String path) throws Exception {
    return gw.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .timeout(Duration.ofSeconds(10)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String body(String text, String cache, boolean stream) {
    return "{\"model\":\"openai/gpt-4o-mini\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\""
        + text + "\"}]" + (cache == null ? "" : ",\"cache\":" + cache) + "}";
  }

  private static final String COMPLETION = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"cached words\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}";

  @Test
  void aRepeatedRequestIsAnsweredFromTheCacheWithHeadersAndTheFieldNeverGoesUpstream() throws Exception {
    gw.upstream.always(Reply.json(200, COMPLETION));
    JsonNode before = Json.parse(gw.get("/v1/cache").body());
    HttpResponse<String> first = gw.post("/v1/chat/completions", body("hello", "{\"ttl_seconds\": 600}", false));
    assertEquals(200, first.statusCode(), first.body());
    assertEquals("MISS", first.headers().firstValue("X-Cache").orElseThrow());
    String key = first.headers().firstValue("X-Cache-Key").orElseThrow();
    assertFalse(gw.upstream.requests().get(0).body().contains("\"cache\""), "the extension is never sent upstream");

    HttpResponse<String> second = gw.post("/v1/chat/completions", body("hello", "true", false));
    assertEquals("HIT", second.headers().firstValue("X-Cache").orElseThrow());
    assertEquals(key, second.headers().firstValue("X-Cache-Key").orElseThrow());
    assertEquals("cached words", Json.parse(second.body()).at("/choices/0/message/content").asText());
    assertEquals(1, gw.upstream.requestCount());

    HttpResponse<String> bypass = gw.post("/v1/chat/completions", body("hello", "{\"no_cache\": true}", false));
    assertTrue(bypass.headers().firstValue("X-Cache").isEmpty());
    HttpResponse<String> notAsked = gw.post("/v1/chat/completions", body("hello", null, false));
    assertTrue(notAsked.headers().firstValue("X-Cache").isEmpty(), "opt-in mode: no field, no cache");
    assertEquals(3, gw.upstream.requestCount());

    JsonNode stats = Json.parse(gw.get("/v1/cache").body());
    // Counters run since start (other tests in this class add to them); the entries were cleared before this one.
    assertEquals(1, stats.get("hits").asLong() - before.get("hits").asLong());
    assertEquals(1, stats.get("misses").asLong() - before.get("misses").asLong());
    assertEquals(1, stats.get("entries").asLong());
    double rate = stats.get("hit_rate").asDouble();
    assertEquals((double) (stats.get("hits").asLong() + stats.get("coalesced").asLong())
        / (stats.get("hits").asLong() + stats.get("coalesced").asLong() + stats.get("misses").asLong()), rate, 1e-9);
    assertEquals("opt-in", stats.get("mode").asText());
    assertTrue(stats.get("bytes").asLong() > 0);

    JsonNode entries = Json.parse(gw.get("/v1/cache/entries?limit=5").body());
    assertEquals(key, entries.at("/data/0/key").asText());
    assertEquals("openai/gpt-4o-mini", entries.at("/data/0/model").asText());

    assertEquals(200, delete("/v1/cache/" + key).statusCode());
    assertEquals(404, delete("/v1/cache/" + key).statusCode());
    assertEquals(400, delete("/v1/cache/not-a-key").statusCode());
    assertEquals("MISS", gw.post("/v1/chat/completions", body("hello", "true", false)).headers()
        .firstValue("X-Cache").orElseThrow(), "deleted: the next call goes upstream");
  }

  @Test
  void aRepeatedStreamIsReplayedAsSseWithItsOwnRecoveryIdAndIdsFromOne() throws Exception {
    gw.upstream.always(Reply.sse(Sse.openAi(List.of("Alpha ", "beta ", "gamma"), true).getBytes()));
    HttpResponse<String> first = gw.post("/v1/chat/completions", body("stream please", "true", true));
    assertEquals("MISS", first.headers().firstValue("X-Cache").orElseThrow());
    HttpResponse<String> second = gw.post("/v1/chat/completions", body("stream please", "true", true));
    assertEquals("HIT", second.headers().firstValue("X-Cache").orElseThrow());
    assertEquals(1, gw.upstream.requestCount());

    List<Sse.Event> a = Sse.parse(first.body());
    List<Sse.Event> b = Sse.parse(second.body());
    assertEquals(a.size(), b.size());
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < b.size() - 1; i++) {
      assertEquals(String.valueOf(i + 1), b.get(i).id(), "a replay numbers its events 1, 2, 3 ... like any stream");
      assertEquals(a.get(i).content(), b.get(i).content());
      text.append(b.get(i).content());
    }
    assertEquals("[DONE]", b.get(b.size() - 1).data());
    assertEquals("Alpha beta gamma", text.toString());
    String firstId = first.headers().firstValue("X-Recovery-Id").orElseThrow();
    String secondId = second.headers().firstValue("X-Recovery-Id").orElseThrow();
    assertFalse(firstId.equals(secondId), "the replay is journalled as a stream of its own");
    JsonNode status = Json.parse(gw.get("/v1/streams/" + secondId).body());
    assertEquals("completed", status.get("status").asText());
    assertEquals("Alpha beta gamma", status.get("text").asText());
  }

  @Test
  void cacheHitsMissesCoalescedAndEvictionsAreInPrometheusMetrics() throws Exception {
    try (GatewayFixture small = new GatewayFixture("pekko-llm.cache.max-entries = 1")) {
      small.upstream.always(Reply.json(200, COMPLETION));
      assertEquals("MISS", small.post("/v1/chat/completions", body("one", "true", false)).headers()
          .firstValue("X-Cache").orElseThrow());
      assertEquals("HIT", small.post("/v1/chat/completions", body("one", "true", false)).headers()
          .firstValue("X-Cache").orElseThrow());
      // A second entry evicts the first (max-entries = 1).
      small.post("/v1/chat/completions", body("two", "true", false));
      String text = small.get("/metrics").body();
      assertEquals(1.0, metric(text, "pekko_llm_cache_lookups_total{outcome=\"hit\"}"), text);
      assertEquals(2.0, metric(text, "pekko_llm_cache_lookups_total{outcome=\"miss\"}"), text);
      assertEquals(0.0, metric(text, "pekko_llm_cache_lookups_total{outcome=\"coalesced\"}"), text);
      assertEquals(1.0, metric(text, "pekko_llm_cache_evictions_total"), text);
      assertEquals(2.0, metric(text, "pekko_llm_cache_stores_total"), text);
      assertEquals(1.0, metric(text, "pekko_llm_cache_entries"), text);
      assertTrue(metric(text, "pekko_llm_cache_bytes") > 0, text);
    }
  }

  /** The value of the sample line starting with {@code series} (name and tags) in Prometheus text. */
  private static double metric(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError(series + " not in metrics");
  }

  @Test
  void upstreamErrorsAreNotCached() throws Exception {
    gw.upstream.enqueue(Reply.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
    gw.upstream.enqueue(Reply.json(200, COMPLETION));
    assertEquals(500, gw.post("/v1/chat/completions", body("flaky", "true", false)).statusCode());
    HttpResponse<String> ok = gw.post("/v1/chat/completions", body("flaky", "true", false));
    assertEquals(200, ok.statusCode());
    assertEquals("MISS", ok.headers().firstValue("X-Cache").orElseThrow());
    assertEquals("HIT", gw.post("/v1/chat/completions", body("flaky", "true", false)).headers()
        .firstValue("X-Cache").orElseThrow());
  }

  @Test
  void aMalformedCacheFieldIsRejectedNamingIt() throws Exception {
    for (String bad : new String[] {"\"yes\"", "{\"ttl_seconds\": -1}", "{\"ttl_seconds\": \"60\"}",
        "{\"no_cache\": 1}"}) {
      HttpResponse<String> r = gw.post("/v1/chat/completions", body("x", bad, false));
      assertEquals(400, r.statusCode(), bad);
      assertTrue(Json.parse(r.body()).at("/error/param").asText().startsWith("cache"), r.body());
    }
    assertEquals(0, gw.upstream.requestCount());
  }
}
