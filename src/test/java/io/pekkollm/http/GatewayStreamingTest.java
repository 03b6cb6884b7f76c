package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** SSE framing of the gateway's streams, concurrency, and cancellation reaching the upstream. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayStreamingTest {
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  private static String streamBody(String model, String text, int delayMs) {
    return "{\"model\":\"" + model + "\",\"stream\":true,\"metadata\":{\"mock_chunk_delay_ms\":\"" + delayMs
        + "\"},\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
  }

  /**
   * The text of an SSE body, checking the DESIGN.md contract: ids 1, 2, 3 ... per chunk with content, then [DONE].
   */
  private static String textOf(String sse) throws Exception {
    StringBuilder text = new StringBuilder();
    long expectedId = 1;
    boolean done = false;
    for (String event : sse.split("\n\n")) {
      if (event.isBlank() || event.startsWith(":")) {
        continue;
      }
      String id = null;
      String data = null;
      for (String line : event.split("\n")) {
        if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      if ("[DONE]".equals(data)) {
        done = true;
        continue;
      }
      JsonNode chunk = Json.parse(data);
      if (expectedId == 1 && "0".equals(id) && chunk.at("/choices/0/delta/content").asText().isEmpty()
          && chunk.at("/choices/0/finish_reason").isNull()) {
        continue; // the role-only first event: id 0, resuming from it is resuming from the start
      }
      assertEquals(String.valueOf(expectedId++), id, "every chunk carries the next id");
      JsonNode content = chunk.at("/choices/0/delta/content");
      if (!content.isMissingNode() && !content.isNull()) {
        text.append(content.asText());
      }
    }
    assertTrue(done, "stream ends with [DONE]");
    return text.toString();
  }

  @Test
  void streamIsSseWithNumberedEventsAndDone() throws Exception {
    HttpResponse<String> r = gw.post("/v1/chat/completions", streamBody("mock/echo", "numbered events please", 0));
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    assertEquals("numbered events please", textOf(r.body()));
  }

  @Test
  void twoHundredConcurrentStreamsAllCompleteWithTheRightText() throws Exception {
    int n = 200;
    List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String text = "stream " + i + " says hello to number " + (i * 7) + " across twelve little word chunks today";
      expected.add(text);
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(streamBody("mock/echo", text, 5))).build();
      futures.add(gw.http.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
    }
    for (int i = 0; i < n; i++) {
      HttpResponse<String> r = futures.get(i).get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(expected.get(i), textOf(r.body()), "stream " + i);
    }
  }

  @Test
  void clientDisconnectClosesTheUpstreamConnection() throws Exception {
    Reply endless = Reply.endlessSse("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"tick \"},\"finish_reason\":null}]}\n\n", Duration.ofMillis(20));
    gw.upstream.enqueue(endless);
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"openai/gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}"))
        .build();
    HttpResponse<InputStream> r = gw.http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    int dataLines = 0;
    while (dataLines < 3) {
      String line = reader.readLine();
      if (line != null && line.startsWith("data: ")) {
        assertTrue(line.contains("tick"), line);
        dataLines++;
      }
    }
    // Closing the body stream closes the connection to the gateway, which must cancel the upstream request.
    r.body().close();
    endless.terminated().get(10, TimeUnit.SECONDS);
    assertEquals(200, gw.post("/v1/chat/completions",
        "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"after\"}]}").statusCode());
  }

  @Test
  void truncatedUpstreamStreamEndsWithAnErrorEventNotDone() throws Exception {
    byte[] full = io.pekkollm.testkit.Fixtures.bytes("openai/chat-stream-text-usage-2024.sse");
    // Delivered in paced pieces so the first half is read before the reset (a reset discards unread bytes).
    gw.upstream.enqueue(Reply.sse(full).inPieces(256, Duration.ofMillis(20)).cutAfter(full.length / 2));
    HttpResponse<String> r = gw.post("/v1/chat/completions",
        "{\"model\":\"openai/gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(!r.body().contains("[DONE]"), "a cut stream must not look finished");
    String last = r.body().strip().substring(r.body().strip().lastIndexOf("data: ") + 6);
    JsonNode err = Json.parse(last).get("error");
    assertEquals("network_error", err.get("type").asText(), last);
    StringBuilder before = new StringBuilder();
    for (String line : r.body().split("\n")) {
      if (line.startsWith("data: {\"id\"")) {
        JsonNode c = Json.parse(line.substring(6)).at("/choices/0/delta/content");
        before.append(c.isMissingNode() || c.isNull() ? "" : c.asText());
      }
    }
    assertTrue(before.length() > 0, "chunks before the cut were delivered");
    assertTrue("I'm unable to provide real-time weather updates. To get the current weather in".startsWith(before.toString())
        || before.toString().startsWith("I'm unable"), before.toString());
  }

  @Test
  void theUpstreamsRoleOnlyFirstChunkReachesTheCallerBeforeItsFirstContent() throws Exception {
    String role = "data: {\"id\":\"chatcmpl-r\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\","
        + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        + "\"finish_reason\":null}]}\n\n";
    byte[] all = (role + io.pekkollm.testkit.Sse.openAi(List.of("Hello", " there"), true))
        .getBytes(StandardCharsets.UTF_8);
    CompletableFuture<Void> gate = new CompletableFuture<>();
    gw.upstream.enqueue(Reply.sse(all).gatedAfter(role.getBytes(StandardCharsets.UTF_8).length, gate));
    try {
      HttpResponse<InputStream> r = gw.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"model\":\"openai/gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}"))
          .build(), HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, r.statusCode());
      BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
      // The upstream holds everything after its role chunk until the gate opens: the caller's first event must
      // come without it (a gateway that waited for content would block here until the read times out).
      CompletableFuture<String> firstData = CompletableFuture.supplyAsync(() -> {
        try {
          for (String line; (line = reader.readLine()) != null; ) {
            if (line.startsWith("data: ")) {
              return line.substring(6);
            }
          }
          return null;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      JsonNode first = Json.parse(firstData.get(10, TimeUnit.SECONDS));
      assertEquals("assistant", first.at("/choices/0/delta/role").asText(), first.toString());
      assertEquals("", first.at("/choices/0/delta/content").asText(), first.toString());
      gate.complete(null);
      StringBuilder rest = new StringBuilder("data: " + first + "\n\n");
      for (String line; (line = reader.readLine()) != null; ) {
        rest.append(line).append('\n');
      }
      assertTrue(rest.toString().contains("data: [DONE]"), rest.toString());
      assertTrue(rest.toString().contains("\"content\":\"Hello\""), rest.toString());
    } finally {
      gate.complete(null);
    }
  }

  @Test
  void anAttemptThatFailsAfterOnlyItsRoleChunkIsRetriedAndTheCallerSeesOneRoleEvent() throws Exception {
    String role = "data: {\"id\":\"chatcmpl-r\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\","
        + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        + "\"finish_reason\":null}]}\n\n";
    byte[] all = (role + io.pekkollm.testkit.Sse.openAi(List.of("Hello", " there"), true))
        .getBytes(StandardCharsets.UTF_8);
    int before = gw.upstream.requestCount();
    // The first attempt sends its role chunk and then loses its connection; the retry answers in full.
    gw.upstream.enqueue(Reply.sse(all).truncatedAfter(role.getBytes(StandardCharsets.UTF_8).length));
    gw.upstream.enqueue(Reply.sse(all));
    HttpResponse<String> r = gw.http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"openai/gpt-4o\",\"stream\":true,\"retry\":{\"max_attempts\":2},"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(2, gw.upstream.requestCount() - before, "retried once");
    assertEquals("Hello there", textOf(r.body()), r.body());
    assertEquals(1, r.body().split("\"role\":\"assistant\"", -1).length - 1, "one role event: " + r.body());
  }
}
