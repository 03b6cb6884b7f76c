package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.http.GatewayServer;
import io.pekkollm.http.GatewaySettings;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Interrupted streams through the gateway against an OpenAI-format upstream, resumed as a client following
 * DESIGN.md would: keep the first kept_chars code points of its text, append the replayed and continued
 * chunks. The joined text must be exactly the whole answer, whatever the strategy and however non-ASCII.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumeGatewayTest {
  private Upstream upstream;
  private LlmClient client;
  private ServerBinding binding;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start() throws Exception {
    upstream = new Upstream();
    var config = TestConfig.openAiCompatible("openai", upstream,
        "pekko-llm.gateway.port = 0\npekko-llm.gateway.access-log = off");
    client = LlmClient.create(config);
    binding = GatewayServer.start(client, GatewaySettings.create(config)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  void stop() {
    binding.unbind();
    client.close();
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  private String url(String path) {
    return "http://127.0.0.1:" + binding.localAddress().getPort() + path;
  }

  private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private JsonNode getJson(String path) throws Exception {
    return Json.parse(http.send(HttpRequest.newBuilder(URI.create(url(path))).GET().build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  /** What a client holds after reading a (possibly interrupted) stream. */
  private record Received(String recoveryId, String text, String lastId, boolean done, boolean error) {}

  private static Received read(HttpResponse<String> r) {
    StringBuilder text = new StringBuilder();
    String lastId = null;
    boolean done = false;
    boolean error = false;
    for (Sse.Event e : Sse.parse(r.body())) {
      if ("[DONE]".equals(e.data())) {
        done = true;
      } else if (e.type() == null && e.json().has("error")) {
        error = true;
      } else if (e.type() == null && e.json().has("choices") && e.json().get("choices").size() > 0) {
        text.append(e.content());
        lastId = e.id();
      }
    }
    return new Received(r.headers().firstValue("X-Recovery-Id").orElse(null), text.toString(), lastId, done, error);
  }

  /** Applies a resume response to {@code had}, as DESIGN.md tells a client to. */
  private static String applyResume(String had, HttpResponse<String> r, JsonNode[] recoveryOut) {
    List<Sse.Event> events = Sse.parse(r.body());
    Sse.Event first = events.get(0);
    assertEquals("recovery", first.type(), "the first event of a resume is event: recovery");
    JsonNode info = first.json();
    recoveryOut[0] = info;
    int kept = info.get("kept_chars").asInt();
    assertEquals(had.codePointCount(0, had.length()) - kept, info.get("discarded_chars").asInt());
    StringBuilder text = new StringBuilder(had.substring(0, had.offsetByCodePoints(0, kept)));
    boolean done = false;
    long previousId = 0;
    for (Sse.Event e : events.subList(1, events.size())) {
      if ("[DONE]".equals(e.data())) {
        done = true;
        continue;
      }
      assertTrue(!e.json().has("error"), "resume failed: " + e.data());
      if (e.json().get("choices").size() > 0) {
        long id = Long.parseLong(e.id());
        assertTrue(id > previousId, "ids increase: " + id + " after " + previousId);
        previousId = id;
        text.append(e.content());
      }
    }
    assertTrue(done, "a resume ends with [DONE]");
    return text.toString();
  }

  /** Streams {@code deltas} then cuts the upstream connection after {@code keep} of them. */
  private Received interrupted(List<String> deltas, int keep, String requestExtra) throws Exception {
    String full = Sse.openAi(deltas, true);
    int cut = Sse.openAi(deltas.subList(0, keep), false).getBytes(StandardCharsets.UTF_8).length;
    // The upstream closes the connection one byte into the next event: a truncated body.
    upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8)).truncatedAfter(cut + 1));
    HttpResponse<String> r = post("/v1/chat/completions", "{\"model\":\"openai/gpt-test\",\"stream\":true," + requestExtra
        + "\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    Received got = read(r);
    assertNotNull(got.recoveryId(), "X-Recovery-Id header");
    assertTrue(got.error() && !got.done(), "the stream was cut: " + r.body());
    // From here on the upstream records only what the resume sends.
    upstream.reset();
    return got;
  }

  @Test
  void exactResumeJoinsPartialAndContinuationExactlyAndTrimsTheRepeat() throws Exception {
    List<String> deltas = List.of("Grüße ", "aus ", "東京 ", "🌍🎌 ", "café", " naïve\u0301 ", "end.");
    String whole = String.join("", deltas);
    Received got = interrupted(deltas, 4, "\"max_tokens\":1000,");
    assertTrue(whole.startsWith(got.text()) && !got.text().isEmpty(), got.text());

    JsonNode status = getJson("/v1/streams/" + got.recoveryId());
    assertEquals("interrupted", status.get("status").asText());
    assertEquals(got.text(), status.get("text").asText());
    assertTrue(status.at("/interruption/recoverable").asBoolean());

    // The model repeats the last words before going on: the overlap must not be duplicated.
    String rest = whole.substring(got.text().length());
    String tail = got.text().substring(Math.max(0, got.text().length() - 14));
    upstream.enqueue(Reply.sse(Sse.openAi(List.of(tail, rest), true).getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = post("/v1/streams/" + got.recoveryId() + "/resume", "{\"strategy\":\"exact\"}",
        "Last-Event-ID", got.lastId());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode[] info = new JsonNode[1];
    assertEquals(whole, applyResume(got.text(), r, info));
    assertEquals(got.text().codePointCount(0, got.text().length()), info[0].get("kept_chars").asInt());
    assertEquals(r.headers().firstValue("X-Recovery-Id").orElse(""), got.recoveryId());

    JsonNode sent = Json.parse(upstream.requests().get(0).body());
    JsonNode msgs = sent.get("messages");
    assertEquals("assistant", msgs.get(msgs.size() - 2).get("role").asText());
    assertEquals(got.text(), msgs.get(msgs.size() - 2).get("content").asText());
    assertEquals(Continuations.CONTINUE, msgs.get(msgs.size() - 1).get("content").asText());
    int reduced = sent.get("max_completion_tokens").asInt();
    assertTrue(reduced < 1000 && reduced >= 128, "max_tokens reduced by what was produced, above the floor: " + sent);

    JsonNode after = getJson("/v1/streams/" + got.recoveryId());
    assertEquals("completed", after.get("status").asText());
    assertEquals(whole, after.get("text").asText());
    assertEquals(2, after.get("attempt").asInt());
  }

  /** OpenRouter's documented mid-stream failure: a chunk with both {@code choices} and a top-level error. */
  private static String openRouterErrorChunk() {
    return "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-test\","
        + "\"provider\":\"openai\",\"error\":{\"code\":\"server_error\",\"message\":\"Provider disconnected\"},"
        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n";
  }

  @Test
  void anErrorChunkWithChoicesInterruptsTheStreamAndItCanBeResumed() throws Exception {
    List<String> deltas = List.of("one ", "two ", "three ");
    String body = Sse.openAi(deltas, false) + openRouterErrorChunk() + "data: [DONE]\n\n";
    upstream.enqueue(Reply.sse(body.getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = post("/v1/chat/completions",
        "{\"model\":\"openai/gpt-test\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"count\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    Received got = read(r);
    assertEquals("one two three ", got.text());
    assertTrue(got.error() && !got.done(), "an error chunk is an interruption, not a normal end: " + r.body());
    assertTrue(!r.body().contains("\"finish_reason\":\"stop\""), r.body());

    JsonNode status = getJson("/v1/streams/" + got.recoveryId());
    assertEquals("interrupted", status.get("status").asText(), status.toString());
    assertTrue(status.at("/interruption/recoverable").asBoolean(), status.toString());

    upstream.reset();
    upstream.enqueue(Reply.sse(Sse.openAi(List.of("four."), true).getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> resumed = post("/v1/streams/" + got.recoveryId() + "/resume", "{}",
        "Last-Event-ID", got.lastId());
    assertEquals(200, resumed.statusCode(), resumed.body());
    JsonNode[] info = new JsonNode[1];
    assertEquals("one two three four.", applyResume(got.text(), resumed, info));
    assertEquals("completed", getJson("/v1/streams/" + got.recoveryId()).get("status").asText());
  }

  @Test
  void anErrorChunkInAnyPositionOrAnswerShapeIsAnUpstreamFailure() throws Exception {
    String chat = "{\"model\":\"openai/gpt-test\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    // First event of the stream: nothing was sent yet, so the failure keeps an HTTP error status.
    upstream.enqueue(Reply.sse((openRouterErrorChunk() + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> first = post("/v1/chat/completions", chat);
    assertTrue(first.statusCode() >= 500, first.statusCode() + " " + first.body());
    assertEquals("Provider disconnected", Json.parse(first.body()).at("/error/message").asText().replaceAll(".*: ", ""),
        first.body());

    // A streaming request answered with one JSON document that carries choices and an error.
    String wholeWithError = "{\"id\":\"gen-2\",\"object\":\"chat.completion\",\"model\":\"gpt-test\","
        + "\"error\":{\"code\":\"server_error\",\"message\":\"Provider disconnected\"},\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"half an ans\"},\"finish_reason\":\"error\"}]}";
    upstream.enqueue(Reply.json(200, wholeWithError));
    HttpResponse<String> asJson = post("/v1/chat/completions", chat);
    assertTrue(asJson.statusCode() >= 500, asJson.statusCode() + " " + asJson.body());

    // And a non-streamed call.
    upstream.enqueue(Reply.json(200, wholeWithError));
    HttpResponse<String> whole = post("/v1/chat/completions",
        "{\"model\":\"openai/gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"y\"}]}");
    assertTrue(whole.statusCode() >= 500, whole.statusCode() + " " + whole.body());
    assertTrue(Json.parse(whole.body()).path("error").isObject(), whole.body());
  }

  @Test
  void anUnknownFinishReasonPassesThroughUnchanged() throws Exception {
    String body = Sse.openAi(List.of("partial"), false)
        + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},"
        + "\"finish_reason\":\"guardrail_intervened\"}]}\n\ndata: [DONE]\n\n";
    upstream.enqueue(Reply.sse(body.getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = post("/v1/chat/completions",
        "{\"model\":\"openai/gpt-test\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    List<String> reasons = Sse.parse(r.body()).stream().filter(e -> !"[DONE]".equals(e.data()) && e.type() == null)
        .map(e -> e.json().at("/choices/0/finish_reason")).filter(n -> n.isTextual()).map(JsonNode::asText).toList();
    assertEquals(List.of("guardrail_intervened"), reasons, r.body());

    upstream.enqueue(Reply.json(200, "{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"partial\"},\"finish_reason\":\"guardrail_intervened\"}]}"));
    HttpResponse<String> whole = post("/v1/chat/completions",
        "{\"model\":\"openai/gpt-test\",\"messages\":[{\"role\":\"user\",\"content\":\"y\"}]}");
    assertEquals(200, whole.statusCode(), whole.body());
    assertEquals("guardrail_intervened", Json.parse(whole.body()).at("/choices/0/finish_reason").asText(), whole.body());
  }

  @Test
  void missedChunksAreReplayedBeforeTheContinuation() throws Exception {
    List<String> deltas = List.of("one ", "two ", "three ", "four ", "five");
    Received got = interrupted(deltas, 3, "");
    assertEquals("one two three ", got.text());
    String whole = String.join("", deltas);
    // The client lost everything after the first event.
    String had = "one ";
    upstream.enqueue(Reply.sse(Sse.openAi(List.of(whole.substring(got.text().length())), true)
        .getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = post("/v1/streams/" + got.recoveryId() + "/resume", "{}", "Last-Event-ID", "1");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode[] info = new JsonNode[1];
    assertEquals(whole, applyResume(had, r, info));
    assertEquals(4, info[0].get("kept_chars").asInt());
    assertEquals(0, info[0].get("discarded_chars").asInt());
    List<String> ids = Sse.parse(r.body()).stream().map(Sse.Event::id).filter(i -> i != null).toList();
    assertEquals("2", ids.get(0), "replay starts after Last-Event-ID: " + ids);
  }

  @Test
  void paragraphResumeDropsTheUnfinishedParagraphOnCharacterBoundaries() throws Exception {
    List<String> deltas = List.of("Erster Absatz 🌍 ist fertig.", "\n\n", "Zweiter ", "Absatz ", "bricht ", "ab.");
    Received got = interrupted(deltas, 4, "");
    String base = "Erster Absatz 🌍 ist fertig.\n\n";
    assertTrue(got.text().startsWith(base) && got.text().length() > base.length(), got.text());
    upstream.enqueue(Reply.sse(Sse.openAi(List.of("Zweiter Absatz, ", "neu geschrieben."), true)
        .getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = post("/v1/streams/" + got.recoveryId() + "/resume", "{\"strategy\":\"paragraph\"}",
        "Last-Event-ID", got.lastId());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode[] info = new JsonNode[1];
    assertEquals(base + "Zweiter Absatz, neu geschrieben.", applyResume(got.text(), r, info));
    assertEquals(base.codePointCount(0, base.length()), info[0].get("kept_chars").asInt());
    assertEquals("paragraph", info[0].get("strategy").asText());
    JsonNode msgs = Json.parse(upstream.requests().get(0).body()).get("messages");
    assertEquals(base, msgs.get(msgs.size() - 2).get("content").asText(), "regenerated from the paragraph start");
  }

  @Test
  void summarizeResumeContinuesFromASummaryAfterTheKeptText() throws Exception {
    List<String> deltas = List.of("A long ", "answer ", "about ", "tides ", "and moons.");
    Received got = interrupted(deltas, 3, "");
    upstream.enqueue(Reply.json(200, "{\"id\":\"s\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"SUMMARY: tides so far\"},\"finish_reason\":\"stop\"}]}"));
    upstream.enqueue(Reply.sse(Sse.openAi(List.of("tides and moons."), true).getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = post("/v1/streams/" + got.recoveryId() + "/resume", "{\"strategy\":\"summarize\"}",
        "Last-Event-ID", got.lastId());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode[] info = new JsonNode[1];
    assertEquals(got.text() + "tides and moons.", applyResume(got.text(), r, info));
    JsonNode summaryReq = Json.parse(upstream.requests().get(0).body());
    assertEquals(got.text(), summaryReq.at("/messages/1/content").asText(), "the partial is what gets condensed");
    String continuation = upstream.requests().get(1).body();
    assertTrue(continuation.contains("SUMMARY: tides so far"), continuation);
  }

  @Test
  void resumeCanSwitchToAnotherModel() throws Exception {
    List<String> deltas = List.of("tell ", "me");
    String full = Sse.openAi(deltas, true);
    upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8))
        .truncatedAfter(Sse.openAi(deltas.subList(0, 1), false).length() + 1));
    HttpResponse<String> first = post("/v1/chat/completions",
        "{\"model\":\"openai/gpt-test\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}]}");
    Received got = read(first);
    assertNotNull(got.lastId(), first.statusCode() + " " + first.body());
    // The mock echoes its user message; continuing "tell " it answers the rest.
    HttpResponse<String> r = post("/v1/streams/" + got.recoveryId() + "/resume", "{\"model\":\"mock/echo\"}",
        "Last-Event-ID", got.lastId());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode[] info = new JsonNode[1];
    assertEquals("tell me", applyResume(got.text(), r, info));
    assertEquals("mock/echo", info[0].get("model").asText());
  }

  @Test
  void completedUnknownAndRunningStreamsAreRefused() throws Exception {
    HttpResponse<String> done = post("/v1/chat/completions",
        "{\"model\":\"mock/echo\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"finished answer\"}]}");
    String id = done.headers().firstValue("X-Recovery-Id").orElseThrow();
    HttpResponse<String> conflict = post("/v1/streams/" + id + "/resume", "{}");
    assertEquals(409, conflict.statusCode(), conflict.body());
    assertEquals("finished answer", Json.parse(conflict.body()).get("final_text").asText());

    HttpResponse<String> unknown = post("/v1/streams/0123456789abcdef/resume", "{}");
    assertEquals(404, unknown.statusCode());
    assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(url("/v1/streams/nope"))).GET().build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());

    assertEquals(400, post("/v1/streams/" + id + "/resume", "{\"strategy\":\"sideways\"}").statusCode());
    assertEquals(400, post("/v1/streams/" + id + "/resume", "{}", "Last-Event-ID", "seven").statusCode());
    assertEquals(400, post("/v1/streams/" + id + "/resume", "{not json").statusCode());
    assertEquals(404, post("/v1/streams/" + id + "/resume", "{\"model\":\"nosuch/x\"}").statusCode());
  }

  @Test
  void twoConcurrentResumesOneWinsTheOtherGets409() throws Exception {
    Received got = interrupted(List.of("a ", "b ", "c ", "d"), 2, "");
    String rest = "a b c d".substring(got.text().length());
    // A slow continuation keeps the winner running while the second resume arrives.
    upstream.enqueue(Reply.sse(Sse.openAi(List.of(rest), true).getBytes(StandardCharsets.UTF_8))
        .inPieces(16, Duration.ofMillis(40)));
    CompletableFuture<HttpResponse<String>> a = CompletableFuture.supplyAsync(() -> call(got));
    CompletableFuture<HttpResponse<String>> b = CompletableFuture.supplyAsync(() -> call(got));
    List<Integer> statuses = List.of(a.get(30, TimeUnit.SECONDS).statusCode(), b.get(30, TimeUnit.SECONDS).statusCode());
    assertTrue(statuses.contains(200) && statuses.contains(409), statuses.toString());
    assertEquals(1, upstream.requestCount(), "only the winner called the upstream");
  }

  private HttpResponse<String> call(Received got) {
    try {
      return post("/v1/streams/" + got.recoveryId() + "/resume", "{}", "Last-Event-ID", got.lastId());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
