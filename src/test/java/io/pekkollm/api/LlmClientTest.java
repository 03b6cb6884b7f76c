package io.pekkollm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.provider.ProviderStatus;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.testkit.TestConfig;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

class LlmClientTest {

  @Test
  void embedsInAHostActorSystemAndLeavesItRunningOnClose() throws Exception {
    ActorTestKit host = ActorTestKit.create(TestConfig.of(""));
    try {
      LlmClient client = LlmClient.builder().system(host.system()).build();
      assertEquals("embedded", client.chat(ChatRequest.builder("mock/echo").user("embedded").build())
          .toCompletableFuture().get(5, TimeUnit.SECONDS).text());
      client.close();
      assertFalse(host.system().whenTerminated().isCompleted(), "the host's system is not ours to stop");
      // A second client in the same system is fine (actor names do not clash).
      try (LlmClient again = LlmClient.builder().system(host.system()).build()) {
        assertEquals("x", again.chat(ChatRequest.builder("mock/echo").user("x").build()).toCompletableFuture().get().text());
      }
    } finally {
      host.shutdownTestKit();
    }
  }

  @Test
  void ownSystemIsTerminatedOnClose() {
    LlmClient client = LlmClient.create(TestConfig.of(""));
    client.close();
    assertTrue(client.system().whenTerminated().isCompleted());
  }

  @Test
  void plainJavaPublisherAndCallbacks() throws Exception {
    try (LlmClient client = LlmClient.create(TestConfig.of(""))) {
      List<String> got = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> done = new CompletableFuture<>();
      client.publisher(ChatRequest.builder("mock/echo").user("flow publisher works").build())
          .subscribe(new Flow.Subscriber<>() {
            Flow.Subscription s;

            @Override
            public void onSubscribe(Flow.Subscription subscription) {
              s = subscription;
              s.request(1);
            }

            @Override
            public void onNext(ChatChunk item) {
              if (item.textDelta() != null) {
                got.add(item.textDelta());
              }
              s.request(1);
            }

            @Override
            public void onError(Throwable t) {
              done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
              done.complete(null);
            }
          });
      done.get(5, TimeUnit.SECONDS);
      assertEquals("flow publisher works", String.join("", got));

      CompletableFuture<ChatResponse> whole = new CompletableFuture<>();
      StringBuilder seen = new StringBuilder();
      client.stream(ChatRequest.builder("mock/echo").user("callbacks too").build(), new ChatStreamHandler() {
        @Override
        public void onChunk(ChatChunk chunk) {
          if (chunk.textDelta() != null) {
            seen.append(chunk.textDelta());
          }
        }

        @Override
        public void onComplete(ChatResponse response) {
          whole.complete(response);
        }

        @Override
        public void onError(Throwable error) {
          whole.completeExceptionally(error);
        }
      });
      assertEquals("callbacks too", whole.get(5, TimeUnit.SECONDS).text());
      assertEquals("callbacks too", seen.toString());
    }
  }

  @Test
  void cancelStopsTheStreamAndFreesTheAdmission() throws Exception {
    MockProvider slow = MockProvider.builder("slow").reply("a b c d e f g h i j k l m n o p")
        .chunkDelay(Duration.ofMillis(50)).build();
    try (LlmClient client = LlmClient.builder().config(TestConfig.of("")).provider(slow).build()) {
      CountDownLatch two = new CountDownLatch(2);
      List<ChatChunk> got = new CopyOnWriteArrayList<>();
      var pair = client.stream(ChatRequest.builder("slow/x").user("q").build())
          .map(c -> {
            got.add(c);
            two.countDown();
            return c;
          })
          .toMat(Sink.ignore(), org.apache.pekko.stream.javadsl.Keep.both())
          .run(client.system());
      assertTrue(two.await(5, TimeUnit.SECONDS));
      pair.first().cancel();
      pair.second().toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertTrue(got.size() < 16, "stopped early, got " + got.size());
      // The admission permit comes back once the stream has ended.
      ProviderStatus s = awaitStatus(client, "slow", st -> st.inFlight() == 0);
      assertEquals(0, s.failures(), "a cancellation is not a provider failure");
    }
  }

  @Test
  void connectionRefusedIsARetryableNetworkErrorAndTheProviderRemembersIt() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    try (LlmClient client = LlmClient.create(TestConfig.of(
        "pekko-llm.providers.local { kind = openai, base-url = \"http://127.0.0.1:" + closedPort + "/v1\", requires-api-key = false }"))) {
      ExecutionException e = assertThrows(ExecutionException.class, () ->
          client.chat(ChatRequest.builder("local/m").user("x").build()).toCompletableFuture().get(10, TimeUnit.SECONDS));
      LlmException le = (LlmException) e.getCause();
      assertEquals(ErrorKind.NETWORK, le.kind());
      assertTrue(le.isRetryable());
      ProviderStatus s = awaitStatus(client, "local", st -> st.failures() == 1);
      assertTrue(s.lastError().contains("could not be reached"), s.lastError());
    }
  }

  @Test
  void invalidConfigurationFailsAtStartWithTheKeyNamed() {
    IllegalArgumentException badUrl = assertThrows(IllegalArgumentException.class, () -> LlmClient.create(TestConfig.of(
        "pekko-llm.providers.bad { kind = openai, base-url = \"ftp://nope\", api-key = k }")));
    assertTrue(badUrl.getMessage().contains("pekko-llm.providers.bad.base-url"), badUrl.getMessage());
    IllegalArgumentException badKind = assertThrows(IllegalArgumentException.class, () -> LlmClient.create(TestConfig.of(
        "pekko-llm.providers.odd { kind = telepathy, base-url = \"http://x\", api-key = k }")));
    assertTrue(badKind.getMessage().contains("known kinds"), badKind.getMessage());
    RuntimeException badEnabled = assertThrows(RuntimeException.class, () -> LlmClient.create(TestConfig.of(
        "pekko-llm.providers.openai.enabled = maybe")));
    assertTrue(badEnabled.getMessage().contains("auto, on or off"), badEnabled.getMessage());
  }

  private static ProviderStatus awaitStatus(LlmClient client, String name,
      java.util.function.Predicate<ProviderStatus> ready) throws Exception {
    ProviderStatus last = null;
    for (int i = 0; i < 100; i++) {
      last = client.providerStatus().toCompletableFuture().get(5, TimeUnit.SECONDS).stream()
          .filter(s -> s.name().equals(name)).findFirst().orElseThrow();
      if (ready.test(last)) {
        return last;
      }
      // Release is a message to the provider actor sent when the stream ends; poll its state briefly.
      Thread.onSpinWait();
      TimeUnit.MILLISECONDS.sleep(20);
    }
    throw new AssertionError("provider state never became ready: " + last);
  }
}
