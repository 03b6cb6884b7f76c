package io.pekkollm.provider.mock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ToolCall;
import io.pekkollm.testkit.TestConfig;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MockProviderTest {

  @Test
  void wordsJoinBackToTheText() {
    for (String s : new String[] {"", "one", "one two", "  lead", "trail  ", "a\nb\tc  d", "🌍 世界 ok"}) {
      assertEquals(s, String.join("", MockProvider.words(s)));
    }
  }

  @Test
  void fixedRepliesHandlersFailuresAndCapture() throws Exception {
    MockProvider fixed = MockProvider.builder("fixed").reply("always this").wordsPerChunk(2).build();
    MockProvider tools = MockProvider.builder("tools")
        .handler(r -> MockReply.toolCalls(List.of(new ToolCall("c1", "lookup", "{\"q\":\"" + r.lastUserText() + "\"}"))))
        .build();
    MockProvider failing = MockProvider.builder("failing")
        .failWith(new LlmException(ErrorKind.OVERLOADED, "simulated overload")).build();
    MockProvider midStream = MockProvider.builder("mid").reply("a b c d e")
        .failAfterChunks(2, new LlmException(ErrorKind.MID_STREAM, "cut")).build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of(""))
        .provider(fixed).provider(tools).provider(failing).provider(midStream).build()) {
      List<ChatChunk> chunks = client.stream(ChatRequest.builder("fixed/any").user("q").build())
          .runWith(Sink.seq(), client.system()).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(List.of("always this"), chunks.stream().map(ChatChunk::textDelta).filter(t -> t != null).toList());
      assertEquals("fixed/any", client.chat(ChatRequest.builder("fixed/any").user("q").build())
          .toCompletableFuture().get().model());

      ChatResponse t = client.chat(ChatRequest.builder("tools/x").user("cats").build()).toCompletableFuture().get();
      assertEquals(List.of(new ToolCall("c1", "lookup", "{\"q\":\"cats\"}")), t.toolCalls());
      assertEquals(FinishReason.TOOL_CALLS, t.finishReason());
      assertEquals("x", tools.requests().get(0).model(), "the provider sees its own model id");

      assertKind(ErrorKind.OVERLOADED, () -> client.chat(ChatRequest.builder("failing/x").user("q").build())
          .toCompletableFuture().get());
      List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      assertKind(ErrorKind.MID_STREAM, () -> client.stream(ChatRequest.builder("mid/x").user("q").build())
          .runForeach(c -> seen.add(c.textDelta()), client.system()).toCompletableFuture().get());
      assertEquals(List.of("a ", "b "), seen);
    }
  }

  @Test
  void theConfiguredMockEchoesAndSimulatesStatuses() throws Exception {
    try (LlmClient client = LlmClient.create(TestConfig.of(""))) {
      assertEquals("ping", client.chat(ChatRequest.builder("mock/echo").user("ping").build())
          .toCompletableFuture().get().text());
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () ->
          client.chat(ChatRequest.builder("mock/error-503").user("x").build()).toCompletableFuture().get());
      assertEquals(ErrorKind.OVERLOADED, ((LlmException) e.getCause()).kind());
      assertEquals(503, ((LlmException) e.getCause()).httpStatus());
    }
  }

  private static void assertKind(ErrorKind kind, Executable call) {
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, call);
    assertInstanceOf(LlmException.class, e.getCause());
    assertEquals(kind, ((LlmException) e.getCause()).kind());
    assertTrue(e.getCause().getMessage() != null);
  }
}
