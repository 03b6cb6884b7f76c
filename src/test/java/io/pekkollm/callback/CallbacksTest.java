package io.pekkollm.callback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CallbacksTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** Records every event it gets, in order. */
  static final class Recording implements LlmCallback {
    final LinkedBlockingQueue<CallEvent> events = new LinkedBlockingQueue<>();
    private final boolean chunks;

    Recording(boolean chunks) {
      this.chunks = chunks;
    }

    @Override
    public void onStart(CallEvent.Started e) {
      events.add(e);
    }

    @Override
    public void onSuccess(CallEvent.Succeeded e) {
      events.add(e);
    }

    @Override
    public void onFailure(CallEvent.Failed e) {
      events.add(e);
    }

    @Override
    public void onChunk(CallEvent.Chunk e) {
      events.add(e);
    }

    @Override
    public boolean wantsChunks() {
      return chunks;
    }

    CallEvent next() throws InterruptedException {
      CallEvent e = events.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertNotNull(e, "no event arrived");
      return e;
    }

    /** Events up to and including the call's end (success or failure). */
    List<CallEvent> untilEnd() throws InterruptedException {
      List<CallEvent> out = new ArrayList<>();
      CallEvent e;
      do {
        e = next();
        out.add(e);
      } while (!(e instanceof CallEvent.Succeeded) && !(e instanceof CallEvent.Failed));
      return out;
    }
  }

  @Test
  void streamedCallReportsStartChunksInOrderAndSuccessWithUsageCostAndTimings() throws Exception {
    try (Upstream upstream = new Upstream()) {
      upstream.enqueue(Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"));
      Recording rec = new Recording(true);
      try (LlmClient client = LlmClient.builder().config(TestConfig.openAiCompatible("openai", upstream, ""))
          .callback(rec).build()) {
        ChatRequest request = ChatRequest.builder("openai/gpt-4o").user("hi").build();
        StringBuilder text = new StringBuilder();
        client.stream(request).runWith(Sink.foreach(c -> {
          if (c.textDelta() != null) {
            text.append(c.textDelta());
          }
        }), client.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);

        List<CallEvent> events = rec.untilEnd();
        CallEvent.Started start = assertInstanceOf(CallEvent.Started.class, events.get(0));
        assertTrue(start.streaming());
        assertEquals(request, start.request());
        StringBuilder chunked = new StringBuilder();
        for (CallEvent e : events.subList(1, events.size() - 1)) {
          CallEvent.Chunk c = assertInstanceOf(CallEvent.Chunk.class, e);
          assertEquals(start.callId(), c.callId());
          if (c.chunk().textDelta() != null) {
            chunked.append(c.chunk().textDelta());
          }
        }
        assertEquals(text.toString(), chunked.toString(), "chunks arrive in order, all of them");
        CallEvent.Succeeded done = assertInstanceOf(CallEvent.Succeeded.class, events.get(events.size() - 1));
        assertEquals(start.callId(), done.callId());
        assertEquals(text.toString(), done.response().text());
        assertEquals("openai/gpt-4o", done.response().model());
        assertNotNull(done.usage());
        assertTrue(done.usage().outputTokens() > 0);
        assertTrue(done.cost().isPresent(), "gpt-4o is priced by the catalog");
        assertNotNull(done.timeToFirstChunk());
        assertTrue(done.latency().compareTo(done.timeToFirstChunk()) >= 0);
      }
    }
  }

  @Test
  void wholeCallReportsStartAndSuccessWithoutChunksForACallbackThatDidNotAskForThem() throws Exception {
    Recording rec = new Recording(false);
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).callback(rec).build()) {
      ChatResponse r = client.chat(ChatRequest.builder("mock/echo").user("whole answer").build())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<CallEvent> events = rec.untilEnd();
      assertEquals(2, events.size(), events.toString());
      assertFalse(assertInstanceOf(CallEvent.Started.class, events.get(0)).streaming());
      CallEvent.Succeeded done = assertInstanceOf(CallEvent.Succeeded.class, events.get(1));
      assertEquals(r.text(), done.response().text());
      assertNull(done.timeToFirstChunk(), "a whole answer has no first chunk");

      // A streamed call: still no chunk events for this callback.
      client.stream(ChatRequest.builder("mock/echo").user("a b c d").build()).runWith(Sink.ignore(), client.system())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<CallEvent> streamed = rec.untilEnd();
      assertEquals(2, streamed.size(), streamed.toString());
    }
  }

  @Test
  void failuresReportTheirErrorKindForWholeStreamedAndUnplannableCalls() throws Exception {
    Recording rec = new Recording(false);
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).callback(rec).build()) {
      client.chat(ChatRequest.builder("mock/error-503").user("x").build()).toCompletableFuture()
          .handle((r, e) -> null).get(10, TimeUnit.SECONDS);
      List<CallEvent> whole = rec.untilEnd();
      CallEvent.Failed f = assertInstanceOf(CallEvent.Failed.class, whole.get(whole.size() - 1));
      assertEquals(ErrorKind.OVERLOADED, f.kind(), f.message());
      assertFalse(f.streaming());

      client.stream(ChatRequest.builder("mock/error-401").user("x").build()).runWith(Sink.ignore(), client.system())
          .toCompletableFuture().handle((r, e) -> null).get(10, TimeUnit.SECONDS);
      List<CallEvent> streamed = rec.untilEnd();
      CallEvent.Failed sf = assertInstanceOf(CallEvent.Failed.class, streamed.get(streamed.size() - 1));
      assertEquals(ErrorKind.AUTHENTICATION, sf.kind());
      assertTrue(sf.streaming());

      client.stream(ChatRequest.builder("nosuchprovider/x").user("x").build()).runWith(Sink.ignore(), client.system())
          .toCompletableFuture().handle((r, e) -> null).get(10, TimeUnit.SECONDS);
      List<CallEvent> unplanned = rec.untilEnd();
      assertInstanceOf(CallEvent.Started.class, unplanned.get(0));
      assertEquals(ErrorKind.MODEL_NOT_FOUND, assertInstanceOf(CallEvent.Failed.class, unplanned.get(1)).kind());
    }
  }

  @Test
  void aStreamCancelledByItsConsumerIsReportedAsCancelled() throws Exception {
    Recording rec = new Recording(false);
    MockProvider slow = MockProvider.builder().reply("one two three four five six seven eight nine ten")
        .chunkDelay(Duration.ofMillis(50)).build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(slow).callback(rec).build()) {
      client.stream(ChatRequest.builder("mock/any").user("x").build()).take(1).runWith(Sink.ignore(), client.system())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<CallEvent> events = rec.untilEnd();
      assertEquals(ErrorKind.CANCELLED, assertInstanceOf(CallEvent.Failed.class, events.get(1)).kind());
    }
  }

  @Test
  void aThrowingCallbackLeavesCallsAndOtherCallbacksUnaffectedAndIsCounted() throws Exception {
    LlmCallback throwing = new LlmCallback() {
      @Override
      public String name() {
        return "throwing";
      }

      @Override
      public void onStart(CallEvent.Started e) {
        throw new IllegalStateException("boom");
      }

      @Override
      public void onSuccess(CallEvent.Succeeded e) {
        throw new IllegalStateException("boom");
      }

      @Override
      public boolean wantsChunks() {
        return true;
      }

      @Override
      public void onChunk(CallEvent.Chunk e) {
        throw new IllegalStateException("boom");
      }
    };
    Recording rec = new Recording(false);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).meterRegistry(registry)
        .callback(throwing).callback(rec).build()) {
      for (int i = 0; i < 3; i++) {
        assertEquals("still works " + i, client.chat(ChatRequest.builder("mock/echo").user("still works " + i).build())
            .toCompletableFuture().get(10, TimeUnit.SECONDS).text());
        assertEquals(2, rec.untilEnd().size());
      }
      client.stream(ChatRequest.builder("mock/echo").user("streamed too").build()).runWith(Sink.ignore(),
          client.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(2, rec.untilEnd().size());
    }
    // Closed: every queued event was delivered (and threw).
    assertTrue(registry.get("pekko.llm.callback.errors").tag("callback", "throwing").counter().count() >= 8);
  }

  @Test
  void aSlowCallbackNeverDelaysCallsAndWhatItCannotTakeIsDroppedAndCounted() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> blocked = new CompletableFuture<>();
    LlmCallback slow = new LlmCallback() {
      @Override
      public String name() {
        return "slow";
      }

      @Override
      public void onStart(CallEvent.Started e) {
        blocked.complete(null);
        try {
          release.await();
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
      }
    };
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("pekko-llm.callbacks.queue-size = 2"))
        .meterRegistry(registry).callback(slow).build()) {
      try {
        for (int i = 0; i < 10; i++) {
          // Each call completes while the callback is stuck in its first event.
          client.chat(ChatRequest.builder("mock/echo").user("call " + i).build()).toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
        }
        blocked.get(10, TimeUnit.SECONDS);
        // 20 events offered; the callback holds one, its queue two: at least 17 dropped.
        assertTrue(registry.get("pekko.llm.callback.dropped").tag("callback", "slow").counter().count() >= 17);
      } finally {
        release.countDown();
      }
    }
  }

  @Test
  void jsonLinesFileSinkWritesOneEventPerLineWithoutBodiesUnlessAskedAndRedacted(@TempDir Path dir)
      throws Exception {
    Path plain = dir.resolve("plain/events.jsonl");
    try (LlmClient client = LlmClient.create(TestConfig.of("pekko-llm.callbacks.file.path = \""
        + plain.toString().replace("\\", "/") + "\""))) {
      client.chat(ChatRequest.builder("mock/echo").user("secret words").build()).toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    }
    List<String> lines = Files.readAllLines(plain);
    assertEquals(2, lines.size(), lines.toString());
    JsonNode start = Json.parse(lines.get(0));
    JsonNode success = Json.parse(lines.get(1));
    assertEquals("start", start.get("event").asText());
    assertEquals("success", success.get("event").asText());
    assertEquals(start.get("call_id"), success.get("call_id"));
    assertEquals("mock/echo", success.get("served_model").asText());
    assertTrue(success.has("latency_ms"));
    assertTrue(success.has("usage"));
    assertFalse(lines.get(0).contains("secret words") || lines.get(1).contains("secret words"));

    Path bodies = dir.resolve("bodies.jsonl");
    try (LlmClient client = LlmClient.create(TestConfig.of("pekko-llm.callbacks { include-bodies = on, file.path = \""
        + bodies.toString().replace("\\", "/") + "\" }"))) {
      client.chat(ChatRequest.builder("mock/echo").user("my key is sk-test-key-abcdefgh123").build())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    String written = Files.readString(bodies);
    assertTrue(written.contains("my key is [REDACTED]"), written);
    assertFalse(written.contains("sk-test-key-"), written);
  }

  @Test
  void webhookSinkBatchesAndRetriesUntilTheReceiverAccepts() throws Exception {
    try (Upstream hook = new Upstream()) {
      hook.enqueue(Reply.json(500, "{}")).enqueue(Reply.json(503, "{}")).enqueue(Reply.json(200, "{}"));
      try (LlmClient client = LlmClient.create(TestConfig.of("pekko-llm.callbacks.webhook { url = \""
          + hook.url("/events") + "\", retry-backoff = 10ms, batch-size = 2 }, pekko-llm.callbacks.flush-interval = 1h,"
          + " pekko-llm.callbacks.webhook { headers { Authorization = \"Bearer hook-secret-1\" } }"))) {
        client.chat(ChatRequest.builder("mock/echo").user("hello hook").build()).toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
      }
      // The batch of two went out when full: two failures, then the accepted retry.
      List<Upstream.Recorded> posts = hook.requests();
      assertEquals(3, posts.size());
      for (Upstream.Recorded post : posts) {
        assertEquals("POST", post.method());
        assertEquals("/events", post.path());
        assertEquals("Bearer hook-secret-1", post.headers().get("authorization"));
        assertEquals(posts.get(0).body(), post.body(), "a retry sends the same batch");
      }
      JsonNode batch = Json.parse(posts.get(2).body());
      assertTrue(batch.isArray());
      List<String> kinds = new ArrayList<>();
      batch.forEach(e -> kinds.add(e.get("event").asText()));
      assertEquals(List.of("start", "success"), kinds, "one batch of two");
    }
  }

  @Test
  void webhookSinkDropsABatchItCannotDeliverAndCountsIt() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Upstream hook = new Upstream()) {
      hook.always(Reply.json(500, "{}"));
      try (LlmClient client = LlmClient.builder().meterRegistry(registry).config(TestConfig.of(
          "pekko-llm.callbacks.webhook { url = \"" + hook.url("/events") + "\", retry-backoff = 5ms, max-retries = 2, "
              + "batch-size = 2 }")).build()) {
        assertEquals("still answered", client.chat(ChatRequest.builder("mock/echo").user("still answered").build())
            .toCompletableFuture().get(10, TimeUnit.SECONDS).text());
      }
      assertEquals(3, hook.requestCount(), "one POST and two retries");
      assertEquals(1.0, registry.get("pekko.llm.callback.errors").tag("callback", "webhook").counter().count());
    }
  }
}
