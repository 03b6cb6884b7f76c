package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The response cache on {@code POST /v1/embeddings}, opted into with the same {@code cache} field as chat
 * completions: a repeated request is a HIT without an upstream call, a different input or {@code dimensions} is
 * its own entry, float and base64 answers share one (the same vectors, written two ways), errors are never
 * stored, identical calls in flight share one upstream call, and the entries are the cache's (listed, deleted).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayEmbeddingsCacheTest {
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

  private static final String ANSWER = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
      + "\"embedding\":[0.25,-0.5,0.125]}],\"model\":\"text-embedding-3-small\","
      + "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}";

  private HttpResponse<String> embed(String input, String extra) throws Exception {
    return gw.post("/v1/embeddings", "{\"model\":\"openai/text-embedding-3-small\",\"input\":\"" + input + "\""
        + extra + "}");
  }

  private static String cache(HttpResponse<String> r) {
    return r.headers().firstValue("X-Cache").orElse("none");
  }

  private static String key(HttpResponse<String> r) {
    return r.headers().firstValue("X-Cache-Key").orElseThrow();
  }

  private static float[] vector(HttpResponse<String> r) throws Exception {
    JsonNode e = Json.parse(r.body()).at("/data/0/embedding");
    if (e.isTextual()) {
      ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(e.asText())).order(ByteOrder.LITTLE_ENDIAN);
      float[] v = new float[b.remaining() / 4];
      for (int i = 0; i < v.length; i++) {
        v[i] = b.getFloat();
      }
      return v;
    }
    float[] v = new float[e.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) e.get(i).asDouble();
    }
    return v;
  }

  @Test
  void aRepeatedRequestIsAHitAndDifferentInputsOrDimensionsAreTheirOwnEntries() throws Exception {
    gw.upstream.always(Reply.json(200, ANSWER));
    HttpResponse<String> first = embed("hello", ",\"cache\":true");
    assertEquals(200, first.statusCode(), first.body());
    assertEquals("MISS", cache(first));
    assertFalse(gw.upstream.requests().get(0).body().contains("cache"), "the extension is never sent upstream");
    HttpResponse<String> again = embed("hello", ",\"cache\":{\"ttl_seconds\":600}");
    assertEquals("HIT", cache(again));
    assertEquals(key(first), key(again));
    assertArrayEquals(vector(first), vector(again));
    assertEquals(Json.parse(first.body()).path("usage"), Json.parse(again.body()).path("usage"));
    HttpResponse<String> base64 = embed("hello", ",\"cache\":true,\"encoding_format\":\"base64\"");
    assertEquals("HIT", cache(base64), "base64 is how the same vectors are written: one entry");
    assertTrue(Json.parse(base64.body()).at("/data/0/embedding").isTextual());
    assertArrayEquals(vector(first), vector(base64));
    assertEquals(1, gw.upstream.requestCount());

    Set<String> keys = new HashSet<>(List.of(key(first)));
    for (String[] other : List.of(new String[] {"hello", ",\"cache\":true,\"dimensions\":2"},
        new String[] {"hello", ",\"cache\":true,\"dimensions\":3"}, new String[] {"hello!", ",\"cache\":true"},
        new String[] {"hello", ",\"cache\":true,\"input_type\":\"search_query\""})) {
      HttpResponse<String> r = embed(other[0], other[1]);
      assertEquals("MISS", cache(r), other[0] + other[1]);
      assertTrue(keys.add(key(r)), "its own entry: " + other[0] + other[1]);
    }
    assertEquals(5, gw.upstream.requestCount());
    assertEquals("HIT", cache(embed("hello", ",\"cache\":true,\"dimensions\":2")));
    assertEquals(5, gw.upstream.requestCount());

    assertEquals("none", cache(embed("hello", "")), "opt-in mode: no field, no cache");
    assertEquals("none", cache(embed("hello", ",\"cache\":{\"no_cache\":true}")));
    assertEquals(7, gw.upstream.requestCount());

    JsonNode entries = Json.parse(gw.get("/v1/cache/entries?limit=10").body());
    assertEquals(5, entries.path("data").size(), entries.toString());
    assertEquals("openai/text-embedding-3-small", entries.at("/data/0/model").asText());
    assertEquals(200, delete("/v1/cache/" + key(first)).statusCode());
    assertEquals("MISS", cache(embed("hello", ",\"cache\":true")), "deleted: the next call goes upstream");
  }

  @Test
  void anErrorIsNeverStored() throws Exception {
    gw.upstream.enqueue(Reply.json(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
    HttpResponse<String> failed = embed("fails once", ",\"cache\":true");
    assertEquals(500, failed.statusCode(), failed.body());
    gw.upstream.enqueue(Reply.json(200, ANSWER));
    HttpResponse<String> next = embed("fails once", ",\"cache\":true");
    assertEquals(200, next.statusCode(), next.body());
    assertEquals("MISS", cache(next));
    assertEquals("HIT", cache(embed("fails once", ",\"cache\":true")));
    assertEquals(2, gw.upstream.requestCount());
  }

  @Test
  void identicalCallsInFlightShareOneUpstreamCall() throws Exception {
    gw.upstream.always(Reply.json(200, ANSWER).delayedBy(Duration.ofMillis(400)));
    List<CompletableFuture<HttpResponse<String>>> calls = List.of(
        CompletableFuture.supplyAsync(() -> call("together")), CompletableFuture.supplyAsync(() -> call("together")));
    Set<String> outcomes = new HashSet<>();
    for (CompletableFuture<HttpResponse<String>> c : calls) {
      HttpResponse<String> r = c.get();
      assertEquals(200, r.statusCode(), r.body());
      outcomes.add(cache(r));
    }
    // The second either joined the first's call or, had it come after the answer was stored, hit it.
    assertTrue(outcomes.contains("MISS"), outcomes.toString());
    assertNotEquals(Set.of("MISS"), outcomes, "not two upstream calls");
    assertEquals(1, gw.upstream.requestCount());
  }

  private HttpResponse<String> call(String input) {
    try {
      return embed(input, ",\"cache\":true");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aBadCacheFieldIsA400NamingIt() throws Exception {
    HttpResponse<String> r = embed("x", ",\"cache\":\"yes\"");
    assertEquals(400, r.statusCode(), r.body());
    assertEquals("cache", Json.parse(r.body()).at("/error/param").asText(), r.body());
    assertEquals(0, gw.upstream.requestCount());
  }
}
