package io.pekkollm.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.CacheOptions;
import io.pekkollm.model.CacheStatus.Outcome;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.mock.MockReply;
import io.pekkollm.testkit.TestConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/** The response cache through the Java API: coalescing, replayed streams, errors, opt-in, TTL on manual time. */
class ResponseCacheTest {

  /**
   * A provider whose answers wait for a gate the test opens, so concurrent calls are provably in flight
   * together; it counts the upstream calls it receives.
   */
  static final class GatedProvider implements ChatProvider {
    final AtomicInteger calls = new AtomicInteger();
    final CompletableFuture<Void> gate = new CompletableFuture<>();

    @Override
    public String name() {
      return "gated";
    }

    @Override
    public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming) {
      return Source.lazySource(() -> {
        calls.incrementAndGet();
        List<ChatChunk> chunks = List.of(ChatChunk.text("shared "), ChatChunk.text("answer"),
            ChatChunk.finish(FinishReason.STOP, Usage.of(5, 2)));
        return Source.completionStageSource(gate.thenApply(v -> Source.from(chunks)));
      }).mapMaterializedValue(m -> NotUsed.getInstance());
    }

    @Override
    public CompletionStage<List<ModelInfo>> listModels() {
      return CompletableFuture.completedFuture(List.of());
    }
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ChatRequest cached(String model, String text) {
    return ChatRequest.builder(model).user(text).cache(CacheOptions.use()).build();
  }

  /** Waits (without sleeping) until the cache has seen {@code n} lookups. */
  private static void awaitLookups(LlmClient client, long n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client.cache().stats().lookups() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + client.cache().stats().lookups() + " of " + n + " lookups arrived");
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  @Test
  void concurrentIdenticalChatsShareOneUpstreamCall() throws Exception {
    GatedProvider gated = new GatedProvider();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(gated).build()) {
      int n = 12;
      List<CompletableFuture<ChatResponse>> answers = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        answers.add(client.chat(cached("gated/m", "same question")).toCompletableFuture());
      }
      awaitLookups(client, n);
      gated.gate.complete(null);
      for (CompletableFuture<ChatResponse> a : answers) {
        assertEquals("shared answer", a.get(10, TimeUnit.SECONDS).text());
      }
      assertEquals(1, gated.calls.get(), "one upstream call for " + n + " identical requests");
      assertEquals(1, answers.stream().filter(a -> a.join().cacheStatus().orElseThrow().outcome() == Outcome.MISS).count());
      assertEquals(n - 1, client.cache().stats().coalesced());
      assertEquals(Outcome.HIT, await(client.chat(cached("gated/m", "same question"))).cacheStatus().orElseThrow()
          .outcome(), "and the answer is stored");
    }
  }

  @Test
  void concurrentIdenticalStreamsShareOneUpstreamCallAndEachGetsEveryChunk() throws Exception {
    GatedProvider gated = new GatedProvider();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(gated).build()) {
      int n = 8;
      List<CompletionStage<List<ChatChunk>>> streams = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        streams.add(client.stream(cached("gated/m", "stream me")).runWith(Sink.seq(), client.system()));
      }
      awaitLookups(client, n);
      gated.gate.complete(null);
      for (CompletionStage<List<ChatChunk>> s : streams) {
        List<ChatChunk> chunks = await(s);
        assertEquals(List.of("shared ", "answer"), chunks.stream().map(ChatChunk::textDelta)
            .filter(t -> t != null).toList());
        assertEquals(FinishReason.STOP, chunks.get(chunks.size() - 1).finishReason());
      }
      assertEquals(1, gated.calls.get());
    }
  }

  @Test
  void aRepeatedStreamIsReplayedFromTheCacheChunkForChunk() throws Exception {
    MockProvider mock = MockProvider.builder("m").reply("one two three four").build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(mock).build()) {
      ChatRequest req = cached("m/echo", "replay me");
      Pair<ChatStream, CompletionStage<List<ChatChunk>>> first = client.stream(req)
          .toMat(Sink.seq(), Keep.both()).run(client.system());
      List<ChatChunk> original = await(first.second());
      assertEquals(Outcome.MISS, first.first().cacheStatus().orElseThrow().outcome());

      Pair<ChatStream, CompletionStage<List<ChatChunk>>> second = client.stream(req)
          .toMat(Sink.seq(), Keep.both()).run(client.system());
      List<ChatChunk> replayed = await(second.second());
      assertEquals(Outcome.HIT, second.first().cacheStatus().orElseThrow().outcome());
      assertEquals(original, replayed, "the same chunks, in the same pieces");
      assertTrue(second.first().recoveryId() != null, "a replay is journalled like any stream");
      assertEquals(1, mock.requests().size());

      ChatResponse folded = await(client.chat(req));
      assertEquals("one two three four", folded.text(), "a non-streaming caller folds the stored stream");
      assertEquals(Outcome.HIT, folded.cacheStatus().orElseThrow().outcome());
      assertEquals(1, mock.requests().size());
    }
  }

  @Test
  void errorsAreNeverCached() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    MockProvider flaky = MockProvider.builder("flaky").handler(r -> {
      if (calls.incrementAndGet() == 1) {
        throw new LlmException(ErrorKind.SERVER_ERROR, "upstream 500");
      }
      return MockReply.text("recovered");
    }).build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(flaky).build()) {
      ChatRequest req = cached("flaky/echo", "q");
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> await(client.chat(req)));
      assertEquals(ErrorKind.SERVER_ERROR, ((LlmException) e.getCause()).kind());
      assertEquals(0, client.cache().stats().entries());
      assertEquals("recovered", await(client.chat(req)).text(), "the failure was not stored");
      assertEquals(Outcome.HIT, await(client.chat(req)).cacheStatus().orElseThrow().outcome());
      assertEquals(2, calls.get());

      MockProvider midStream = MockProvider.builder("cut").reply("a b c d")
          .failAfterChunks(2, new LlmException(ErrorKind.MID_STREAM, "connection reset")).build();
      try (LlmClient c2 = LlmClient.builder().config(TestConfig.of("")).provider(midStream).build()) {
        ChatRequest r2 = cached("cut/echo", "q");
        org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
            () -> await(c2.stream(r2).runWith(Sink.seq(), c2.system())));
        org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
            () -> await(c2.stream(r2).runWith(Sink.seq(), c2.system())));
        assertEquals(2, midStream.requests().size(), "a stream that broke mid-way is not replayed");
        assertEquals(0, c2.cache().stats().stores());
      }
    }
  }

  @Test
  void onlyRequestsThatOptInAreCachedByDefaultAndOptOutModeCachesAllButSkipped() throws Exception {
    MockProvider mock = MockProvider.builder("m").reply("hi").build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(mock).build()) {
      ChatRequest plain = ChatRequest.builder("m/echo").user("q").build();
      assertTrue(await(client.chat(plain)).cacheStatus().isEmpty());
      await(client.chat(plain));
      assertEquals(2, mock.requests().size());
      assertEquals(0, client.cache().stats().lookups());
    }
    MockProvider mock2 = MockProvider.builder("m").reply("hi").build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("pekko-llm.cache.mode = opt-out"))
        .provider(mock2).build()) {
      ChatRequest plain = ChatRequest.builder("m/echo").user("q").build();
      await(client.chat(plain));
      assertEquals(Outcome.HIT, await(client.chat(plain)).cacheStatus().orElseThrow().outcome());
      ChatResponse skipped = await(client.chat(plain.withCache(CacheOptions.skip())));
      assertTrue(skipped.cacheStatus().isEmpty());
      assertEquals(2, mock2.requests().size());
      // user and metadata are not part of the key; the temperature is.
      ChatRequest tagged = plain.toBuilder().userId("someone").metadata(java.util.Map.of("k", "v")).build();
      assertEquals(Outcome.HIT, await(client.chat(tagged)).cacheStatus().orElseThrow().outcome());
      assertEquals(Outcome.MISS, await(client.chat(plain.toBuilder().temperature(0.3).build())).cacheStatus()
          .orElseThrow().outcome());
    }
  }

  @Test
  void anEntryExpiresAfterItsRequestedTtlOnManualTime() throws Exception {
    ActorTestKit kit = ActorTestKit.create(ManualTime.config()
        .withFallback(TestConfig.of("pekko-llm.recovery.enabled = off")));
    ManualTime time = ManualTime.get(kit.system());
    MockProvider mock = MockProvider.builder("m").reply("fresh").build();
    try (LlmClient client = LlmClient.builder().system(kit.system()).provider(mock).build()) {
      ChatRequest req = ChatRequest.builder("m/echo").user("q").cache(CacheOptions.ttl(Duration.ofSeconds(90)))
          .build();
      assertEquals(Outcome.MISS, await(client.chat(req)).cacheStatus().orElseThrow().outcome());
      time.timePasses(Duration.ofSeconds(89));
      assertEquals(Outcome.HIT, await(client.chat(req)).cacheStatus().orElseThrow().outcome());
      time.timePasses(Duration.ofSeconds(2));
      assertEquals(Outcome.MISS, await(client.chat(req)).cacheStatus().orElseThrow().outcome());
      assertEquals(2, mock.requests().size());
      assertEquals(1, client.cache().stats().expirations());
      List<CacheEntryInfo> entries = await(client.cache().entries(10));
      assertEquals(1, entries.size());
      assertEquals("m/echo", entries.get(0).model());
      assertTrue(await(client.cache().delete(entries.get(0).key())));
      assertFalse(await(client.cache().delete(entries.get(0).key())));
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void cancellingTheOnlyReaderOfASharedCallCancelsTheUpstreamAndStoresNothing() throws Exception {
    try (io.pekkollm.testkit.Upstream upstream = new io.pekkollm.testkit.Upstream();
        LlmClient client = LlmClient.create(TestConfig.openAiCompatible("openai", upstream, ""))) {
      io.pekkollm.testkit.Upstream.Reply endless = io.pekkollm.testkit.Upstream.Reply.endlessSse(
          io.pekkollm.testkit.Sse.openAi(List.of("tick "), false), Duration.ofMillis(20));
      upstream.enqueue(endless);
      java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
      ChatStream handle = client.stream(cached("openai/gpt-4o-mini", "forever"))
          .to(Sink.foreach(c -> seen.incrementAndGet())).run(client.system());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (seen.get() < 2 && System.nanoTime() < deadline) {
        Thread.onSpinWait();
        Thread.yield();
      }
      assertTrue(seen.get() >= 2, "the endless answer is streaming");
      handle.cancel();
      endless.terminated().get(10, TimeUnit.SECONDS);
      assertEquals(0, client.cache().stats().stores());
    }
  }

  @Test
  void cacheKeysIgnoreUserMetadataAndJsonKeyOrder() throws Exception {
    var schemaA = io.pekkollm.util.Json.parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
    var schemaB = io.pekkollm.util.Json.parse("{\"properties\":{\"a\":{\"type\":\"string\"}},\"type\":\"object\"}");
    ChatRequest a = ChatRequest.builder("openai/gpt-4o-mini").user("x")
        .tools(List.of(new io.pekkollm.model.ToolDefinition("f", "d", schemaA, null))).build();
    ChatRequest b = a.toBuilder().tools(List.of(new io.pekkollm.model.ToolDefinition("f", "d", schemaB, null)))
        .userId("u").metadata(java.util.Map.of("trace", "1")).build();
    assertEquals(CacheKeys.of(a), CacheKeys.of(b));
    assertTrue(CacheKeys.isKey(CacheKeys.of(a)));
    assertFalse(CacheKeys.of(a).equals(CacheKeys.of(a.toBuilder().seed(7L).build())));
    assertFalse(CacheKeys.of(a).equals(CacheKeys.of(a.withModel("openai/gpt-4o"))));
  }
}
