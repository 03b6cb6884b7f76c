package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.LlmException;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Resume against an Anthropic Messages upstream, through the Java API: the kept text goes back as an assistant
 * prefill (trailing whitespace stripped, as the API requires) and the joined answer is exact.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumeAnthropicTest {
  private Upstream upstream;
  private LlmClient client;

  @BeforeAll
  void start() {
    upstream = new Upstream();
    client = LlmClient.create(TestConfig.of("pekko-llm.providers.anthropic { base-url = \"" + upstream.url("")
        + "\", api-key = \"sk-ant-test\" }"));
  }

  @AfterAll
  void stop() {
    client.close();
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  private static String anthropicSse(List<String> deltas, boolean finish) {
    return io.pekkollm.testkit.Sse.anthropic(deltas, finish);
  }

  @Test
  void exactResumeUsesAssistantPrefillAndJoinsExactly() throws Exception {
    List<String> deltas = List.of("Die Gezeiten ", "folgen ", "dem Mond 🌕 ", "und ", "der Sonne.");
    String whole = String.join("", deltas);
    String full = anthropicSse(deltas, true);
    String prefix = anthropicSse(deltas.subList(0, 3), false);
    upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8))
        .truncatedAfter(prefix.getBytes(StandardCharsets.UTF_8).length + 5));

    StringBuilder had = new StringBuilder();
    var pair = client.stream(ChatRequest.builder("anthropic/claude-test").user("Wovon hängen Gezeiten ab?")
            .maxTokens(500).build())
        .toMat(Sink.foreach(c -> had.append(c.textDelta() == null ? "" : c.textDelta())), Keep.both())
        .run(client.system());
    ChatStream handle = pair.first();
    ExecutionException broke = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> pair.second().toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertTrue(((LlmException) broke.getCause()).isRetryable(), broke.getCause().getMessage());
    assertEquals("Die Gezeiten folgen dem Mond 🌕 ", had.toString());

    upstream.reset();
    // Anthropic continues the prefill; it re-sends the space the prefill could not end with.
    upstream.enqueue(Reply.sse(anthropicSse(List.of(" und ", "der Sonne."), true).getBytes(StandardCharsets.UTF_8)));
    ResumedStream r = client.resume(handle, ResumeStrategy.EXACT).toCompletableFuture().get(10, TimeUnit.SECONDS);
    StringBuilder joined = new StringBuilder(had.substring(0, had.offsetByCodePoints(0, r.keptChars())));
    r.chunks().runForeach(j -> joined.append(j.chunk().textDelta() == null ? "" : j.chunk().textDelta()), client.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(whole, joined.toString());

    JsonNode sent = Json.parse(upstream.requests().get(0).body());
    JsonNode messages = sent.get("messages");
    JsonNode last = messages.get(messages.size() - 1);
    assertEquals("assistant", last.get("role").asText());
    String prefill = last.get("content").isTextual() ? last.get("content").asText()
        : last.get("content").get(0).get("text").asText();
    assertEquals("Die Gezeiten folgen dem Mond 🌕", prefill, "the prefill, trailing whitespace stripped");
    assertTrue(sent.get("max_tokens").asInt() < 500, sent.toString());
  }

  @Test
  void automaticResumeGivesOneUninterruptedStream() throws Exception {
    List<String> deltas = List.of("Eins, ", "zwei, ", "drei, ", "vier.");
    String full = anthropicSse(deltas, true);
    upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8))
        .truncatedAfter(anthropicSse(deltas.subList(0, 2), false).getBytes(StandardCharsets.UTF_8).length + 3));
    upstream.enqueue(Reply.sse(anthropicSse(List.of(" drei, ", "vier."), true).getBytes(StandardCharsets.UTF_8)));
    String text = client.streamWithAutoResume(ChatRequest.builder("anthropic/claude-test").user("zähl").build(), 2,
            Duration.ofMillis(10))
        .runFold("", (acc, c) -> acc + (c.textDelta() == null ? "" : c.textDelta()), client.system())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals("Eins, zwei, drei, vier.", text);
    assertEquals(2, upstream.requestCount());
  }
}
