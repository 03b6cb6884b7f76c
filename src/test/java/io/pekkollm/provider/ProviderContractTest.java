package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ProviderException;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * The contract every provider meets, fed from {@code ../shared/fixtures}: each subclass lists its fixture
 * cases (text, tool calls, usage, every error status, mid-stream error) with the values they must parse to,
 * and inherits the generic checks: a stream cut at any point fails with a retryable error (never a silent
 * short answer), the same stream split at every byte gives the same chunks, and cancelling closes the
 * upstream connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ProviderContractTest {
  protected Upstream upstream;
  protected LlmClient client;

  /** The provider under test, e.g. {@code openai}. */
  protected abstract String provider();

  /** A client whose provider {@link #provider()} talks to {@code upstream}. */
  protected abstract LlmClient createClient(Upstream upstream);

  /** The fixture cases, each with its expectations. */
  protected abstract List<Case> cases();

  /** A streamed fixture that ends properly, used for the generic checks. */
  protected abstract String streamFixture();

  /** What the upstream answers for one streamed event (for the cancellation check). */
  protected abstract String endlessEvent();

  /** The bytes of {@link #streamFixture()}; override when the stream is built rather than read. */
  protected byte[] streamBytes() {
    return Fixtures.bytes(streamFixture());
  }

  /** How the upstream answers with a streamed body (SSE unless the provider frames differently). */
  protected Reply streamReply(byte[] body) {
    return Reply.sse(body);
  }

  /** What the upstream answers for the cancellation check: one event, repeated until the client leaves. */
  protected Reply endlessReply() {
    return Reply.endlessSse(endlessEvent(), Duration.ofMillis(20));
  }

  /**
   * The part of a recorded upstream request that names the model: the body for most APIs, the URL path for
   * those that put the model there (Gemini).
   */
  protected String whereTheModelIsNamed(Upstream.Recorded request) {
    return request.body();
  }

  /** A model id of this provider. */
  protected String model() {
    return provider() + "/test-model";
  }

  @BeforeAll
  void startAll() {
    upstream = new Upstream();
    client = createClient(upstream);
  }

  @AfterAll
  void stopAll() {
    if (client != null) {
      client.close();
    }
    upstream.close();
  }

  @BeforeEach
  void resetUpstream() {
    upstream.reset();
  }

  /** One fixture and what it must give. Exactly one of {@code response} / {@code error} checks applies. */
  public record Case(String name, Reply reply, boolean streaming, Consumer<ChatResponse> response,
      Consumer<LlmException> error) {
    public static Case ok(String name, Reply reply, boolean streaming, Consumer<ChatResponse> check) {
      return new Case(name, reply, streaming, check, null);
    }

    public static Case fails(String name, Reply reply, boolean streaming, Consumer<LlmException> check) {
      return new Case(name, reply, streaming, null, check);
    }
  }

  protected ChatRequest request() {
    return ChatRequest.builder(model()).user("Hello").build();
  }

  @TestFactory
  Stream<DynamicTest> fixtures() {
    return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      upstream.reset();
      upstream.enqueue(c.reply());
      try {
        ChatResponse r = call(request(), c.streaming());
        if (c.response() == null) {
          fail(c.name() + ": expected an error, got " + r);
        }
        c.response().accept(r);
      } catch (LlmException e) {
        if (c.error() == null) {
          throw new AssertionError(c.name() + ": unexpected error", e);
        }
        assertEquals(provider(), ((ProviderException) e).provider());
        c.error().accept(e);
      }
    }));
  }

  /**
   * Every whole-answer fixture read both ways a non-streamed call can be read: as one exchange
   * ({@link io.pekkollm.provider.ChatProvider#complete}, the plain path) and as chunks
   * ({@code stream(request, false)}, the path a cached call takes): the same answer, usage and cost.
   */
  @TestFactory
  Stream<DynamicTest> aWholeAnswerReadWholeOrAsChunksGivesTheSameAnswerUsageAndCost() {
    return cases().stream().filter(c -> !c.streaming() && c.response() != null)
        .map(c -> DynamicTest.dynamicTest(c.name(), () -> {
          upstream.reset();
          upstream.enqueue(c.reply());
          ChatResponse whole = call(request(), false);
          client.cache().clear().toCompletableFuture().get(10, TimeUnit.SECONDS);
          upstream.enqueue(c.reply());
          ChatResponse chunked = call(request().toBuilder().cache(io.pekkollm.model.CacheOptions.use()).build(), false);
          assertEquals(io.pekkollm.model.CacheStatus.Outcome.MISS, chunked.cacheStatus().orElseThrow().outcome(),
              "read from the upstream, as chunks");
          assertEquals(whole.model(), chunked.model(), "model");
          assertEquals(whole.providerModel(), chunked.providerModel(), "provider model");
          assertEquals(whole.text(), chunked.text(), "text");
          assertEquals(whole.reasoning(), chunked.reasoning(), "reasoning");
          assertEquals(whole.toolCalls(), chunked.toolCalls(), "tool calls");
          assertEquals(whole.finishReason(), chunked.finishReason(), "finish reason");
          assertEquals(whole.usage(), chunked.usage(), "usage");
          assertEquals(whole.cost(), chunked.cost(), "cost");
        }));
  }

  @Test
  void sendsOneWellFormedRequestWithTheProvidersOwnModelId() throws Exception {
    upstream.enqueue(streamReply(streamBytes()));
    call(request(), true);
    List<Upstream.Recorded> reqs = upstream.requests();
    assertEquals(1, reqs.size());
    assertEquals("POST", reqs.get(0).method());
    String named = whereTheModelIsNamed(reqs.get(0));
    assertTrue(named.contains("test-model"), named);
    assertTrue(!named.contains(provider() + "/test-model"), "the provider prefix must be stripped");
  }

  @Test
  void streamSplitAtEveryByteGivesTheSameAnswer() throws Exception {
    byte[] bytes = streamBytes();
    upstream.enqueue(streamReply(bytes));
    ChatResponse whole = call(request(), true);
    // One byte per TCP write is the worst case for an incremental parser.
    int piece = bytes.length > 20_000 ? 7 : 1;
    upstream.enqueue(streamReply(bytes).inPieces(piece, Duration.ZERO));
    ChatResponse split = call(request(), true);
    assertEquals(whole, split);
  }

  @Test
  void streamCutAnywhereFailsRetryablyAndNeverReturnsAShortAnswer() {
    byte[] bytes = streamBytes();
    int lastEventEnd = lastEventEnd(bytes);
    for (int cut : new int[] {0, 1, lastEventEnd / 3, lastEventEnd / 2, lastEventEnd - 1}) {
      // Paced pieces, so what precedes the cut is read before the reset (a TCP reset discards unread bytes).
      upstream.enqueue(streamReply(bytes).inPieces(Math.max(64, bytes.length / 10), Duration.ofMillis(15)).cutAfter(cut));
      try {
        ChatResponse r = call(request(), true);
        fail("cut after " + cut + " bytes must fail, got " + r);
      } catch (LlmException e) {
        assertEquals(ErrorKind.NETWORK, e.kind(), "cut after " + cut + ": " + e.getMessage());
        assertTrue(e.isRetryable(), "a cut stream is retryable");
      }
    }
  }

  @Test
  void cancellingTheStreamClosesTheUpstreamConnection() throws Exception {
    Reply endless = endlessReply();
    upstream.enqueue(endless);
    List<ChatChunk> got = client.stream(request())
        .take(3)
        .runWith(Sink.seq(), client.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(3, got.size());
    // The upstream's body stream terminates only when the connection carrying it is closed.
    endless.terminated().get(10, TimeUnit.SECONDS);
  }

  /** Calls through the public API; unwraps the async wrapper so cases see the LlmException. */
  protected ChatResponse call(ChatRequest request, boolean streaming) {
    try {
      if (streaming) {
        ChatAccumulator acc = new ChatAccumulator();
        client.stream(request).runWith(Sink.foreach(acc::add), client.system())
            .toCompletableFuture().get(20, TimeUnit.SECONDS);
        return acc.toResponse(request.model());
      }
      return client.chat(request).toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof LlmException le) {
        throw le;
      }
      throw new AssertionError("expected an LlmException", cause);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The chunks one streamed reply gives, in order: for comparing a body delivered in different pieces. */
  protected List<ChatChunk> chunksOf(Reply reply) {
    upstream.enqueue(reply);
    try {
      return client.stream(request()).runWith(Sink.seq(), client.system())
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Feeds {@code body} whole and then one byte per write, and checks both give the same chunks. */
  protected void assertSameChunksSplitAtEveryByte(String what, byte[] body) {
    List<ChatChunk> whole = chunksOf(streamReply(body));
    assertTrue(!whole.isEmpty(), what + " gave no chunks");
    assertEquals(whole, chunksOf(streamReply(body).inPieces(1, Duration.ZERO)), what + " split at every byte");
  }

  private static int lastEventEnd(byte[] bytes) {
    String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
    int done = s.lastIndexOf("[DONE]");
    return done > 0 ? done : s.length();
  }

  // ---------------------------------------------------------------- helpers for subclasses

  protected static Consumer<LlmException> kind(ErrorKind kind, int status, boolean retryable) {
    return e -> {
      assertInstanceOf(ProviderException.class, e);
      ProviderException pe = (ProviderException) e;
      assertEquals(kind, e.kind(), e.getMessage());
      assertEquals(status, pe.status(), "status");
      assertEquals(retryable, e.isRetryable(), "retryable");
      assertNotNull(pe.rawBody(), "raw body kept");
    };
  }

  protected static List<Case> list(Case... cases) {
    return new ArrayList<>(List.of(cases));
  }
}
