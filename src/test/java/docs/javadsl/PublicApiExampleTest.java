package docs.javadsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.recovery.ResumeStrategy;
import io.pekkollm.recovery.ResumedStream;
import java.nio.file.Files;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * The README's examples, written as a user outside the library would: only public types, no test kit. If
 * this package stops compiling, the documented API changed.
 */
class PublicApiExampleTest {

  private static LlmClient client(MockProvider... providers) throws Exception {
    var config = ConfigFactory.parseString("pekko-llm.recovery.data-dir = \""
        + Files.createTempDirectory("docs").toString().replace('\\', '/') + "\"").withFallback(io.pekkollm.api.LlmConfig.load());
    LlmClient.Builder b = LlmClient.builder().config(config);
    for (MockProvider p : providers) {
      b.provider(p);
    }
    return b.build();
  }

  @Test
  void chatAndStream() throws Exception {
    try (LlmClient llm = client()) {
      ChatRequest req = ChatRequest.builder("mock/echo").system("Be brief.").user("Why is the sky blue?").build();
      ChatResponse r = llm.chat(req).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("Why is the sky blue?", r.text());

      StringBuilder out = new StringBuilder();
      var pair = llm.stream(req)
          .toMat(Sink.foreach((ChatChunk c) -> out.append(c.textDelta() == null ? "" : c.textDelta())), Keep.both())
          .run(llm.system());
      ChatStream handle = pair.first();
      assertNotNull(handle.recoveryId(), "every stream is journalled under a recovery id");
      pair.second().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("Why is the sky blue?", out.toString());
    }
  }

  @Test
  void errorsAreLlmExceptionsWithAKind() throws Exception {
    try (LlmClient llm = client()) {
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> llm.chat(ChatRequest.builder("mock/error-429").user("x").build()).toCompletableFuture().get());
      LlmException le = (LlmException) e.getCause();
      assertEquals(ErrorKind.RATE_LIMITED, le.kind());
      assertTrue(le.isRetryable());
      assertTrue(le.retryAfter().isPresent());
    }
  }

  @Test
  void resumeAnInterruptedStream() throws Exception {
    MockProvider flaky = MockProvider.builder("flaky")
        .failAfterChunks(2, new LlmException(ErrorKind.NETWORK, "reset", null, true, null)).build();
    try (LlmClient llm = client(flaky)) {
      StringBuilder had = new StringBuilder();
      var pair = llm.stream(ChatRequest.builder("flaky/echo").user("one two three four").build())
          .toMat(Sink.foreach((ChatChunk c) -> had.append(c.textDelta() == null ? "" : c.textDelta())), Keep.both())
          .run(llm.system());
      try {
        pair.second().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException expected) {
        assertEquals(ErrorKind.NETWORK, ((LlmException) expected.getCause()).kind());
      }
      // Continue on another model (the flaky one would break again): the always-on mock/echo.
      ChatStream interrupted = pair.first();
      ResumedStream resumed = llm.resume(interrupted.recoveryId(), ResumeStrategy.EXACT, "mock/echo",
          interrupted.lastEventId()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      StringBuilder text = new StringBuilder(had.substring(0, had.offsetByCodePoints(0, resumed.keptChars())));
      resumed.chunks().runForeach(j -> text.append(j.chunk().textDelta() == null ? "" : j.chunk().textDelta()),
          llm.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("one two three four", text.toString());
    }
  }
}
