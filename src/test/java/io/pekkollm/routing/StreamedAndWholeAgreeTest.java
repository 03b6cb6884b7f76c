package io.pekkollm.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.api.ChatStreamHandler;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.testkit.TestConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/**
 * A streamed call and a non-streamed call are two readers of one attempt path: for the same upstream behaviour
 * they give the same answer, usage and cost (including the dated-snapshot price of a model id the catalog lacks),
 * the same retries, the same fallbacks and the same timeout. The provider here answers {@code stream} and
 * {@code complete} separately (as the HTTP providers do), from one script.
 */
class StreamedAndWholeAgreeTest {

  /** What the scripted provider does on its n-th call (1-based), for either reader. */
  private interface Script {
    List<ChatChunk> answer(int call);
  }

  private static final List<ChatChunk> ANSWER = List.of(
      new ChatChunk("chatcmpl-1", "gpt-4o-mini-2024-07-18", "Hello, ", null, List.of(), null, null),
      new ChatChunk("chatcmpl-1", "gpt-4o-mini-2024-07-18", "world.", null, List.of(), FinishReason.STOP, null),
      new ChatChunk("chatcmpl-1", "gpt-4o-mini-2024-07-18", null, null, List.of(), null,
          new Usage(1200, 340, 200, 0, 0)));

  /** A provider whose streamed and whole readers are separate code, fed by one script. */
  private static final class Scripted implements ChatProvider {
    private final String name;
    private final Script script;
    final AtomicInteger calls = new AtomicInteger();

    Scripted(String name, Script script) {
      this.name = name;
      this.script = script;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming) {
      return Source.lazySource(() -> {
        List<ChatChunk> chunks = script.answer(calls.incrementAndGet());
        return chunks == null ? Source.<ChatChunk>never() : Source.from(chunks);
      }).mapMaterializedValue(f -> NotUsed.getInstance());
    }

    @Override
    public CompletionStage<List<ChatChunk>> complete(ChatRequest request, Materializer materializer) {
      try {
        List<ChatChunk> chunks = script.answer(calls.incrementAndGet());
        return chunks == null ? new CompletableFuture<>() : CompletableFuture.completedFuture(chunks);
      } catch (LlmException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public CompletionStage<List<ModelInfo>> listModels() {
      return CompletableFuture.completedFuture(List.of());
    }
  }

  private static LlmClient client(String hocon, ChatProvider... providers) {
    LlmClient.Builder b = LlmClient.builder().config(TestConfig.of("pekko-llm.recovery.enabled = off\n" + hocon));
    for (ChatProvider p : providers) {
      b.provider(p);
    }
    return b.build();
  }

  private static ChatResponse streamed(LlmClient llm, ChatRequest request) throws Exception {
    CompletableFuture<ChatResponse> out = new CompletableFuture<>();
    llm.stream(request, new ChatStreamHandler() {
      @Override
      public void onChunk(ChatChunk chunk) {}

      @Override
      public void onComplete(ChatResponse response) {
        out.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        out.completeExceptionally(error);
      }
    });
    return out.get(20, TimeUnit.SECONDS);
  }

  private static ChatResponse whole(LlmClient llm, ChatRequest request) throws Exception {
    return llm.chat(request).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static LlmException failure(Callable call) {
    try {
      call.run();
    } catch (ExecutionException e) {
      return assertInstanceOf(LlmException.class, e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("expected a failure");
  }

  private interface Callable {
    void run() throws Exception;
  }

  private static void assertSameAnswer(ChatResponse a, ChatResponse b) {
    assertEquals(a.model(), b.model(), "model");
    assertEquals(a.providerModel(), b.providerModel(), "provider model");
    assertEquals(a.text(), b.text(), "text");
    assertEquals(a.finishReason(), b.finishReason(), "finish reason");
    assertEquals(a.toolCalls(), b.toolCalls(), "tool calls");
    assertEquals(a.usage(), b.usage(), "usage");
    assertEquals(a.cost(), b.cost(), "cost");
  }

  @Test
  void bothReadersGiveTheSameAnswerUsageAndCostIncludingTheDatedSnapshotPrice() throws Exception {
    Scripted p = new Scripted("openai", n -> ANSWER);
    try (LlmClient llm = client("", p)) {
      // A deployment name the catalog lacks: the answer names the dated snapshot it ran, which the catalog prices.
      ChatRequest req = ChatRequest.builder("openai/my-deployment").user("Hi").build();
      ChatResponse s = streamed(llm, req);
      ChatResponse w = whole(llm, req);
      assertSameAnswer(s, w);
      assertEquals("Hello, world.", w.text());
      assertTrue(w.cost().isPresent(), "priced by the snapshot gpt-4o-mini-2024-07-18");
      assertEquals(w.cost().orElseThrow(), llm.cost("openai/gpt-4o-mini", w.usage()).orElseThrow());
      assertEquals(w.cost().orElseThrow(), llm.cost("openai/my-deployment", "gpt-4o-mini-2024-07-18", w.usage()).orElseThrow());
    }
  }

  @Test
  void bothReadersRetryARetryableFailureTheSameWay() throws Exception {
    AtomicInteger failUntil = new AtomicInteger();
    Scripted p = new Scripted("flaky", n -> {
      if (n <= failUntil.get()) {
        throw new ProviderException(ErrorKind.SERVER_ERROR, "boom", "flaky", 503, Map.of(), null, null, null, null,
            Duration.ZERO, true, null);
      }
      return ANSWER;
    });
    try (LlmClient llm = client("pekko-llm.providers.flaky { retry { max-attempts = 3, initial-backoff = 1ms,"
        + " max-backoff = 2ms } }", p)) {
      ChatRequest req = ChatRequest.builder("flaky/m").user("Hi").build();
      failUntil.set(2);
      ChatResponse s = streamed(llm, req);
      int streamedCalls = p.calls.getAndSet(0);
      failUntil.set(2);
      ChatResponse w = whole(llm, req);
      int wholeCalls = p.calls.getAndSet(0);
      assertEquals(3, streamedCalls, "two failures, then the answer");
      assertEquals(streamedCalls, wholeCalls);
      assertSameAnswer(s, w);

      // Out of attempts: both give the caller the same error after the same number of calls.
      failUntil.set(10);
      LlmException se = failure(() -> streamed(llm, req));
      int sCalls = p.calls.getAndSet(0);
      LlmException we = failure(() -> whole(llm, req));
      assertEquals(sCalls, p.calls.getAndSet(0));
      assertEquals(3, sCalls);
      assertEquals(se.kind(), we.kind());
      assertEquals(ErrorKind.SERVER_ERROR, we.kind());
    }
  }

  @Test
  void bothReadersFallBackToTheNextModelOfAGroupOnARateLimit() throws Exception {
    Scripted limited = new Scripted("limited", n -> {
      throw new ProviderException(ErrorKind.RATE_LIMITED, "slow down", "limited", 429, Map.of(), null, null, null,
          null, Duration.ofSeconds(30), true, null);
    });
    Scripted spare = new Scripted("spare", n -> ANSWER);
    try (LlmClient llm = client("pekko-llm.routing.groups.g = [\"limited/a\", \"spare/b\"]", limited, spare)) {
      ChatRequest req = ChatRequest.builder("g").user("Hi").build();
      ChatResponse s = streamed(llm, req);
      ChatResponse w = whole(llm, req);
      assertEquals("spare/b", s.model());
      assertSameAnswer(s, w);
      assertEquals(2, limited.calls.get(), "one attempt each, no retry of a rate limit when another model can serve");
      assertEquals(2, spare.calls.get());
    }
  }

  @Test
  void bothReadersTimeOutWithTheSameKind() throws Exception {
    Scripted silent = new Scripted("silent", n -> null);
    try (LlmClient llm = client("pekko-llm.providers.silent { response-timeout = 200ms,"
        + " timeouts { first-byte = 200ms, total = 0s } }", silent)) {
      ChatRequest req = ChatRequest.builder("silent/m").user("Hi").build();
      LlmException se = failure(() -> streamed(llm, req));
      LlmException we = failure(() -> whole(llm, req));
      assertEquals(ErrorKind.TIMEOUT, se.kind());
      assertEquals(se.kind(), we.kind());
      assertTrue(se.errorCode().endsWith("_timeout") && we.errorCode().endsWith("_timeout"),
          se.errorCode() + " / " + we.errorCode());
    }
  }
}
