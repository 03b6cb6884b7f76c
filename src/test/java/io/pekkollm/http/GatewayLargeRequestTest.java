package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Large requests cannot hold up everyone else (issue 12, item 2): one whose size already proves it exceeds
 * the context window is rejected without tokenizing, one that must be counted is counted on a pool of its own,
 * and a tiny request sent meanwhile is answered first. Every big request gets a 400 in OpenAI's shape.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayLargeRequestTest {
  private static final String TINY = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"still here\"}]}";
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    // Two counting threads: two big requests are counted at once, as two dispatcher threads once did.
    gw = new GatewayFixture("pekko-llm.gateway.large-requests.threads = 2\n"
        + "pekko-llm.gateway.large-requests.queue = 1\n"
        + "pekko-llm.gateway.large-requests.min-bytes = 16k");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  /** One "word" of {@code n} random lowercase letters: the worst case of byte-pair encoding. */
  private static String word(int n, long seed) {
    Random r = new Random(seed);
    char[] c = new char[n];
    for (int i = 0; i < n; i++) {
      c[i] = (char) ('a' + r.nextInt(26));
    }
    return new String(c);
  }

  private static String body(String text, boolean stream) {
    return "{\"model\":\"mock/echo\",\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + text
        + "\"}]}";
  }

  private CompletableFuture<HttpResponse<String>> send(String body) {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return gw.http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
  }

  private static void assertContextLengthExceeded(HttpResponse<String> r) throws Exception {
    assertEquals(400, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
    JsonNode err = Json.parse(r.body()).get("error");
    assertEquals("context_length_exceeded", err.get("code").asText(), err.toString());
    assertEquals("messages", err.get("param").asText(), err.toString());
    assertTrue(err.has("type") && err.get("message").asText().contains("context window of 128000 tokens"),
        err.toString());
  }

  private static void assertTiny(HttpResponse<String> r) throws Exception {
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("still here", Json.parse(r.body()).at("/choices/0/message/content").asText());
  }

  /** How many threads are inside the tokenizer right now. */
  private static long threadsTokenizing() {
    return Thread.getAllStackTraces().values().stream()
        .filter(st -> List.of(st).stream().anyMatch(f -> f.getClassName().startsWith("com.knuddels.jtokkit")))
        .count();
  }

  @Test
  void wordsTooLongForAnyWindowAreRejectedWithoutTokenizing() throws Exception {
    // 7.8 MB of letters: at most 41 letters per token in either encoding, so at least 190,000 tokens.
    String big = word(7_800_000, 1);
    var a = send(body(big, false));
    var b = send(body(big, true));
    var tiny = send(TINY);
    assertTiny(tiny.get(60, TimeUnit.SECONDS));
    for (var r : List.of(a, b)) {
      HttpResponse<String> resp = r.get(60, TimeUnit.SECONDS);
      assertContextLengthExceeded(resp);
      assertTrue(Json.parse(resp.body()).at("/error/message").asText().contains("needs at least"), resp.body());
    }
    assertTiny(send(TINY).get(60, TimeUnit.SECONDS));
  }

  @Test
  void aTinyRequestIsAnsweredWhileTwoBigOnesAreCounted() throws Exception {
    // 4.4 M letters may be 107,000 tokens: they must be counted (about 1.1 million, so they do not fit).
    var a = send(body(word(4_400_000, 2), false));
    var b = send(body(word(4_400_000, 3), true));
    // Bounded: the two are counted for far longer than this loop polls.
    for (int i = 0; i < 6000 && threadsTokenizing() < 2 && !(a.isDone() && b.isDone()); i++) {
      Thread.sleep(5);
    }
    assertFalse(a.isDone() && b.isDone(), "the big requests were still being counted");
    HttpResponse<String> tiny = send(TINY).get(60, TimeUnit.SECONDS);
    assertFalse(a.isDone() && b.isDone(), "the tiny request was answered before the big ones");
    assertTiny(tiny);
    assertContextLengthExceeded(a.get(60, TimeUnit.SECONDS));
    assertContextLengthExceeded(b.get(60, TimeUnit.SECONDS));
  }

  @Test
  void beyondTheLargeRequestQueueTheGatewayAnswers503() throws Exception {
    var counting = List.of(send(body(word(4_400_000, 4), false)), send(body(word(4_400_000, 5), false)));
    for (int i = 0; i < 6000 && threadsTokenizing() < 2 && !counting.stream().allMatch(CompletableFuture::isDone);
        i++) {
      Thread.sleep(5);
    }
    // Both threads count; one more large request waits in the queue (of 1), the next is refused at once.
    String medium = body(word(20_000, 6) + " " + word(20_000, 7), false);
    var queued = send(medium);
    var refused = send(medium);
    List<HttpResponse<String>> two = List.of(queued.get(60, TimeUnit.SECONDS), refused.get(60, TimeUnit.SECONDS));
    HttpResponse<String> overloaded = two.stream().filter(r -> r.statusCode() == 503).findFirst().orElseThrow(
        () -> new AssertionError("one of the two is refused: " + two.get(0).statusCode() + ", "
            + two.get(1).statusCode()));
    JsonNode err = Json.parse(overloaded.body()).get("error");
    assertTrue(err.get("message").asText().contains("large-requests"), err.toString());
    assertTrue(overloaded.headers().firstValue("Retry-After").isPresent());
    assertTrue(two.stream().anyMatch(r -> r.statusCode() == 200), "the queued one is served");
    for (var r : counting) {
      assertContextLengthExceeded(r.get(60, TimeUnit.SECONDS));
    }
    assertTiny(send(TINY).get(60, TimeUnit.SECONDS));
  }
}
