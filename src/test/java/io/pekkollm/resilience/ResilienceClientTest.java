package io.pekkollm.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.Config;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.catalog.Pricing;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.RetryOptions;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Retries, breakers, fallbacks and timeouts through the public client API, against fault-injecting upstreams
 * (429 with Retry-After, 529, 500 bursts, slow first byte, stalls mid-stream, refused connections), with the
 * client on manual time: no test waits for a backoff, a breaker or a timeout to pass in real time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResilienceClientTest {
  private final Upstream primary = new Upstream();
  private final Upstream backup = new Upstream();
  private final ActorTestKit kit = ActorTestKit.create("resilience",
      ManualTime.config().withFallback(TestConfig.of("")));
  private final ManualTime time = ManualTime.get(kit.system());
  private final List<LlmClient> clients = new ArrayList<>();

  @AfterEach
  void closeClients() {
    clients.forEach(LlmClient::close);
    clients.clear();
    primary.reset();
    backup.reset();
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
    primary.close();
    backup.close();
  }

  // ------------------------------------------------------------------ fixtures

  private static final String ERROR_500 = "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}";

  private static Reply ok(String text) {
    return Reply.json(200, "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"m\",\"choices\":[{\"index\":0,"
        + "\"message\":{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}");
  }

  private static byte[] sseBytes(String... words) {
    StringBuilder sb = new StringBuilder();
    for (String w : words) {
      sb.append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,"
          + "\"delta\":{\"content\":\"").append(w).append("\"},\"finish_reason\":null}]}\n\n");
    }
    sb.append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,"
        + "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static Reply error(int status, Map<String, String> headers) {
    return Reply.json(status, ERROR_500).withHeaders(headers);
  }

  /** A client on the manual-time system; providers {@code primary} and {@code backup} talk to the two upstreams. */
  private LlmClient client(String extra) {
    return client(extra, null);
  }

  private LlmClient client(String extra, ModelCatalog catalog) {
    Config config = TestConfig.of("pekko-llm.recovery.enabled = off\n"
        + "pekko-llm.providers.primary { kind = openai, base-url = \"" + primary.url("/v1") + "\", api-key = k }\n"
        + "pekko-llm.providers.backup { kind = openai, base-url = \"" + backup.url("/v1") + "\", api-key = k }\n"
        + "pekko-llm.provider-defaults.retry { max-attempts = 3, initial-backoff = 0s }\n" + extra);
    LlmClient.Builder b = LlmClient.builder().system(kit.system()).config(config);
    if (catalog != null) {
      b.catalog(catalog);
    }
    LlmClient c = b.build();
    clients.add(c);
    return c;
  }

  private static ChatRequest request(String model) {
    return ChatRequest.builder(model).user("Hello").build();
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    try {
      return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  private static LlmException failure(CompletionStage<?> stage) throws Exception {
    try {
      Object r = await(stage);
      return fail("expected a failure, got " + r);
    } catch (LlmException e) {
      return e;
    }
  }

  /** Waits (briefly, in real time) for something the client does on its own threads. */
  private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }

  private static double counter(LlmClient c, String name, String... tags) {
    var search = c.metrics().registry().find(name);
    for (int i = 0; i + 1 < tags.length; i += 2) {
      search = search.tag(tags[i], tags[i + 1]);
    }
    var counter = search.counter();
    if (counter != null) {
      return counter.count();
    }
    var function = search.functionCounter();
    return function == null ? 0 : function.count();
  }

  // ------------------------------------------------------------------ retries

  @Test
  void aRetryWaitsExactlyWhatRetryAfterSaysThenSucceeds() throws Exception {
    LlmClient c = client("");
    primary.enqueue(error(429, Map.of("retry-after", "2"))).enqueue(ok("after the wait"));
    CompletionStage<ChatResponse> call = c.chat(request("primary/m"));
    eventually("the retry is scheduled", () -> counter(c, "pekko.llm.retries", "kind", "rate_limited") == 1);
    time.timePasses(Duration.ofMillis(1999));
    Thread.sleep(100);
    assertEquals(1, primary.requestCount(), "no retry before Retry-After has passed");
    time.timePasses(Duration.ofMillis(1));
    assertEquals("after the wait", await(call).text());
    assertEquals(2, primary.requestCount());
  }

  @Test
  void retryAfterMsAndAnOverloaded529AreRetriedToo() throws Exception {
    LlmClient c = client("");
    primary.enqueue(error(503, Map.of("retry-after-ms", "300"))).enqueue(error(529, Map.of())).enqueue(ok("third"));
    CompletionStage<ChatResponse> call = c.chat(request("primary/m"));
    eventually("the first retry is scheduled", () -> counter(c, "pekko.llm.retries") == 1);
    time.timePasses(Duration.ofMillis(300));
    // 529 has no hint: its backoff is 0 here (initial-backoff = 0s).
    assertEquals("third", await(call).text());
    assertEquals(3, primary.requestCount());
    assertEquals(2.0, counter(c, "pekko.llm.retries", "provider", "primary", "kind", "overloaded"));
  }

  @Test
  void aBurstOf500sStopsAtMaxAttemptsWithTheLastError() throws Exception {
    LlmClient c = client("");
    primary.always(error(500, Map.of()));
    LlmException e = failure(c.chat(request("primary/m")));
    assertEquals(ErrorKind.SERVER_ERROR, e.kind());
    assertEquals(500, e.httpStatus());
    assertEquals(3, primary.requestCount());
    assertEquals(2.0, counter(c, "pekko.llm.retries"));
    // Outcomes are recorded as each attempt's stream terminates, just after the caller saw the failure.
    eventually("the last attempt is counted", () -> counter(c, "pekko.llm.errors", "kind", "server_error") == 3.0);
  }

  @Test
  void notRetriedWhenTheProviderSaysNoOrTheHintIsTooLongOrTheCallerOptsOut() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.retry.max-retry-after = 30s");
    primary.enqueue(error(503, Map.of("x-should-retry", "false")));
    assertEquals(503, failure(c.chat(request("primary/m"))).httpStatus());
    assertEquals(1, primary.requestCount());

    primary.reset();
    primary.enqueue(error(429, Map.of("retry-after", "120")));
    LlmException tooLong = failure(c.chat(request("primary/m")));
    assertEquals(1, primary.requestCount());
    assertEquals(Duration.ofSeconds(120), tooLong.retryAfter().orElseThrow(), "the caller gets the hint");

    primary.reset();
    primary.always(error(500, Map.of()));
    failure(c.chat(request("primary/m").toBuilder().retry(RetryOptions.NONE).build()));
    assertEquals(1, primary.requestCount());
    primary.reset();
    primary.always(error(500, Map.of()));
    failure(c.chat(request("primary/m").toBuilder().retry(RetryOptions.maxAttempts(2)).build()));
    assertEquals(2, primary.requestCount());
  }

  @Test
  void aStreamIsRetriedBeforeItsFirstChunkButNeverAfter() throws Exception {
    LlmClient c = client("");
    primary.enqueue(error(500, Map.of())).enqueue(Reply.sse(sseBytes("Hel", "lo")));
    String text = await(c.stream(request("primary/m")).runFold("", (a, ch) -> a + text(ch), kit.system()));
    assertEquals("Hello", text);
    assertEquals(2, primary.requestCount());

    primary.reset();
    byte[] body = sseBytes("one ", "two ", "three");
    // The first event arrives, then the connection breaks: the failure is the caller's (and recovery's) to handle.
    primary.enqueue(Reply.sse(body).inPieces(60, Duration.ofMillis(20)).truncatedAfter(indexOfSecondEvent(body) + 10));
    primary.always(Reply.sse(sseBytes("never")));
    List<ChatChunk> got = new ArrayList<>();
    LlmException e = failure(c.stream(request("primary/m")).runForeach(got::add, kit.system()));
    assertEquals(ErrorKind.NETWORK, e.kind());
    assertFalse(got.isEmpty(), "the first chunk reached the caller");
    assertEquals(1, primary.requestCount(), "no retry after the first chunk");
  }

  @Test
  void aRefusedConnectionIsRetriedAndReportedAsANetworkError() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    LlmClient c = client("pekko-llm.providers.gone { kind = openai, base-url = \"http://127.0.0.1:" + closedPort
        + "/v1\", api-key = k }");
    CompletableFuture<ChatResponse> call = c.chat(request("gone/m")).toCompletableFuture();
    // Pekko's connection pool backs off between failed connection attempts on the (manual) scheduler.
    for (int i = 0; i < 200 && !call.isDone(); i++) {
      time.timePasses(Duration.ofMillis(200));
      Thread.sleep(5);
    }
    LlmException e = failure(call);
    assertEquals(ErrorKind.NETWORK, e.kind());
    assertTrue(e.isRetryable());
    assertEquals(2.0, counter(c, "pekko.llm.retries", "provider", "gone", "kind", "network"));
  }

  // ------------------------------------------------------------------ circuit breaker

  @Test
  void theBreakerOpensFailsFastWithoutCallingHalfOpensAndCloses() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.retry.max-attempts = 1\n"
        + "pekko-llm.providers.primary.circuit-breaker { enabled = on, max-failures = 2, reset-timeout = 10s }");
    primary.always(error(500, Map.of()));
    failure(c.chat(request("primary/m")));
    failure(c.chat(request("primary/m")));
    // Each call reports its outcome to the provider's actor just after the caller saw it.
    eventually("the breaker opened", () -> status(c, "primary").breaker().equals("open"));
    LlmException open = failure(c.chat(request("primary/m")));
    assertEquals(ErrorKind.OVERLOADED, open.kind());
    assertEquals("circuit_open", open.errorCode());
    assertEquals(503, open.httpStatus());
    assertTrue(open.getMessage().contains("'primary'"), open.getMessage());
    assertTrue(open.retryAfter().orElseThrow().compareTo(Duration.ofSeconds(10)) <= 0);
    assertEquals(2, primary.requestCount(), "an open breaker does not call the provider");
    assertEquals(1.0, counter(c, "pekko.llm.circuit.breaker.opens", "provider", "primary"));

    time.timePasses(Duration.ofSeconds(10));
    primary.always(ok("back"));
    eventually("the breaker is half-open", () -> status(c, "primary").breaker().equals("half-open"));
    assertEquals("back", await(c.chat(request("primary/m"))).text());
    // The probe's outcome reaches the actor just after the caller saw the answer.
    eventually("the breaker closed", () -> status(c, "primary").breaker().equals("closed"));
    assertEquals("back", await(c.chat(request("primary/m"))).text());
  }

  private static io.pekkollm.provider.ProviderStatus status(LlmClient c, String provider) {
    try {
      return await(c.providerStatus()).stream().filter(s -> s.name().equals(provider)).findFirst().orElseThrow();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  // ------------------------------------------------------------------ fallbacks

  @Test
  void aGroupFallsBackToItsNextModelAndSaysWhichServed() throws Exception {
    LlmClient c = client("pekko-llm.routing.groups.fast = [\"primary/m1\", \"backup/m2\"]");
    primary.always(error(503, Map.of()));
    backup.always(ok("from backup"));
    ChatResponse r = await(c.chat(request("fast")));
    assertEquals("from backup", r.text());
    assertEquals("backup/m2", r.model());
    assertEquals(1, primary.requestCount(), "overload moves on at once");
    assertEquals(1.0, counter(c, "pekko.llm.fallbacks", "group", "fast", "from", "primary/m1", "reason", "overloaded"));
    assertTrue(backup.requests().get(0).body().contains("\"model\":\"m2\""));

    // A server error is retried on the same model first, then the group moves on.
    primary.reset();
    backup.reset();
    primary.always(error(500, Map.of()));
    backup.always(Reply.sse(sseBytes("stream", "ed")));
    Pair<ChatStream, CompletionStage<String>> streamed = c.stream(request("fast"))
        .toMat(Sink.fold("", (a, ch) -> a + text(ch)), Keep.both()).run(kit.system());
    assertEquals("streamed", await(streamed.second()));
    assertEquals("backup/m2", streamed.first().servedModel().orElseThrow());
    assertEquals(3, primary.requestCount());
  }

  @Test
  void aGroupSkipsAModelWhoseContextWindowIsTooSmall() throws Exception {
    ModelCatalog catalog = ModelCatalog.of(List.of(
        ModelEntry.builder("primary", "small").contextWindow(50).pricing(Pricing.of("0.1", "0.2")).build(),
        ModelEntry.builder("backup", "large").contextWindow(100_000).pricing(Pricing.of("1", "2")).build()));
    LlmClient c = client("pekko-llm.routing.groups.long { strategy = lowest-cost, models = [\"primary/small\", "
        + "\"backup/large\"] }", catalog);
    backup.always(ok("fits"));
    primary.always(ok("never"));
    ChatRequest big = ChatRequest.builder("long").user("word ".repeat(400)).build();
    ChatResponse r = await(c.chat(big));
    assertEquals("backup/large", r.model());
    assertEquals(0, primary.requestCount());
    assertEquals(1.0, counter(c, "pekko.llm.fallbacks", "group", "long", "reason", "context_window"));
    // A short request goes to the cheaper model first.
    assertEquals("primary/small", await(c.chat(request("long"))).model());
  }

  @Test
  void aGroupMovesOnFromAnOpenBreakerAndFailsWithTheLastErrorWhenAllFail() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.retry.max-attempts = 1\n"
        + "pekko-llm.providers.primary.circuit-breaker { enabled = on, max-failures = 1, reset-timeout = 1h }\n"
        + "pekko-llm.routing.groups.pair = [\"primary/m\", \"backup/m\"]");
    primary.always(error(500, Map.of()));
    failure(c.chat(request("primary/m")));
    eventually("the breaker opened", () -> status(c, "primary").breaker().equals("open"));
    backup.always(ok("served"));
    assertEquals("backup/m", await(c.chat(request("pair"))).model());
    assertEquals(1, primary.requestCount());
    backup.always(error(400, Map.of()));
    LlmException e = failure(c.chat(request("pair")));
    assertEquals(ErrorKind.INVALID_REQUEST, e.kind(), "a caller error is not worth another model");
  }

  @Test
  void leastBusySendsTheNextCallToTheIdleModel() throws Exception {
    LlmClient c = client("pekko-llm.routing.groups.spread { strategy = least-busy, models = [\"primary/m\", "
        + "\"backup/m\"] }");
    primary.enqueue(ok("slow").delayedBy(Duration.ofSeconds(3)));
    CompletionStage<ChatResponse> busy = c.chat(request("spread"));
    eventually("the first call is at the primary", () -> primary.requestCount() == 1);
    backup.always(ok("idle"));
    assertEquals("backup/m", await(c.chat(request("spread"))).model());
    assertEquals("primary/m", await(busy).model());
  }

  @Test
  void leastLatencyPrefersTheProviderThatAnswersFirstSooner() throws Exception {
    LlmClient c = client("pekko-llm.routing.groups.quick { strategy = least-latency, models = [\"primary/m\", "
        + "\"backup/m\"] }");
    primary.always(ok("slow").delayedBy(Duration.ofMillis(300)));
    backup.always(ok("fast"));
    // Neither measured yet: configured order. Then the unmeasured backup counts as fastest, and then it is.
    assertEquals("primary/m", await(c.chat(request("quick"))).model());
    eventually("the primary's latency is known", () -> status(c, "primary").timeToFirstChunkMillis() != null);
    assertEquals("backup/m", await(c.chat(request("quick"))).model());
    eventually("the backup's latency is known", () -> status(c, "backup").timeToFirstChunkMillis() != null);
    assertEquals("backup/m", await(c.chat(request("quick"))).model());
  }

  @Test
  void rateLimitHeadersOnASuccessHoldTheNextCallUntilTheReset() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.rate-limit.learn-from-headers = on");
    primary.enqueue(ok("first").withHeaders(Map.of("x-ratelimit-remaining-requests", "0",
        "x-ratelimit-reset-requests", "4s", "x-ratelimit-remaining-tokens", "90000")));
    primary.always(ok("later"));
    assertEquals("first", await(c.chat(request("primary/m"))).text());
    // The headers reach the provider's actor asynchronously; a call to another model is never held.
    Thread.sleep(100);
    assertEquals("later", await(c.chat(request("primary/other"))).text());
    CompletableFuture<ChatResponse> held = c.chat(request("primary/m")).toCompletableFuture();
    eventually("the call waits in the queue", () -> status(c, "primary").queued() == 1);
    time.timePasses(Duration.ofSeconds(3));
    Thread.sleep(100);
    assertFalse(held.isDone(), "held until the reported reset");
    time.timePasses(Duration.ofSeconds(1));
    assertEquals("later", await(held).text());
  }

  // ------------------------------------------------------------------ timeouts

  @Test
  void aSlowFirstByteTimesOutWithItsOwnCode() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.retry.max-attempts = 1\n"
        + "pekko-llm.provider-defaults.timeouts.first-byte = 5s");
    primary.enqueue(Reply.sse(sseBytes("late")).delayedBy(Duration.ofHours(1)));
    CompletionStage<String> call = c.stream(request("primary/m")).runFold("", (a, ch) -> a + text(ch), kit.system());
    eventually("the request reached the upstream", () -> primary.requestCount() == 1);
    time.timePasses(Duration.ofSeconds(5));
    ProviderException e = (ProviderException) failure(call);
    assertEquals(ErrorKind.TIMEOUT, e.kind());
    assertEquals("first_byte_timeout", e.errorCode());
    assertEquals(504, e.httpStatus());
    assertTrue(e.getMessage().contains("timeouts.first-byte"), e.getMessage());
  }

  @Test
  void aStreamThatStallsMidwayTimesOutAsIdle() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.timeouts.idle = 5s");
    byte[] body = sseBytes("first ", "second");
    // The first event now, the rest an hour later.
    primary.enqueue(Reply.sse(body).inPieces(indexOfSecondEvent(body), Duration.ofHours(1)));
    List<ChatChunk> got = new ArrayList<>();
    CompletionStage<?> call = c.stream(request("primary/m")).runForeach(got::add, kit.system());
    eventually("the first chunk arrived", () -> !got.isEmpty());
    time.timePasses(Duration.ofSeconds(6));
    ProviderException e = (ProviderException) failure(call);
    assertEquals("idle_timeout", e.errorCode());
    assertEquals(1, primary.requestCount(), "a stall after the first chunk is not retried");
  }

  @Test
  void aNonStreamedAnswerAndAWholeAttemptHaveTheirOwnLimits() throws Exception {
    LlmClient c = client("pekko-llm.provider-defaults.retry.max-attempts = 1\n"
        + "pekko-llm.provider-defaults.response-timeout = 7s\n"
        + "pekko-llm.provider-defaults.timeouts { total = 9s, idle = 0s }");
    primary.enqueue(ok("late").delayedBy(Duration.ofHours(1)));
    CompletionStage<ChatResponse> whole = c.chat(request("primary/m"));
    eventually("the request reached the upstream", () -> primary.requestCount() == 1);
    time.timePasses(Duration.ofSeconds(7));
    assertEquals("response_timeout", failure(whole).errorCode());

    primary.reset();
    primary.enqueue(Reply.endlessSse("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n",
        Duration.ofMillis(50)));
    List<ChatChunk> got = new ArrayList<>();
    CompletionStage<?> endless = c.stream(request("primary/m")).runForeach(got::add, kit.system());
    eventually("chunks flow", () -> !got.isEmpty());
    time.timePasses(Duration.ofSeconds(9));
    LlmException total = failure(endless);
    assertEquals("total_timeout", total.errorCode());
    assertFalse(total.isRetryable());
  }

  @Test
  void aConnectionThatCannotBeEstablishedTimesOutAsConnect() throws Exception {
    // A listening socket whose accept queue is full: the kernel drops further SYNs, so connecting hangs.
    try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      List<java.net.Socket> fillers = new ArrayList<>();
      try {
        for (int i = 0; i < 3; i++) {
          java.net.Socket s = new java.net.Socket();
          try {
            s.connect(full.getLocalSocketAddress(), 200);
            fillers.add(s);
          } catch (java.io.IOException e) {
            s.close();
          }
        }
        LlmClient c = client("pekko-llm.provider-defaults.retry.max-attempts = 1\n"
            + "pekko-llm.providers.stuck { kind = openai, base-url = \"http://127.0.0.1:" + full.getLocalPort()
            + "/v1\", api-key = k, timeouts.connect = 3s }");
        CompletionStage<ChatResponse> call = c.chat(request("stuck/m"));
        // Nothing tells when the connection attempt has begun; advance in steps until the limit fires.
        CompletableFuture<ChatResponse> f = call.toCompletableFuture();
        for (int i = 0; i < 100 && !f.isDone(); i++) {
          time.timePasses(Duration.ofSeconds(1));
          Thread.sleep(20);
        }
        ProviderException e = (ProviderException) failure(call);
        assertEquals("connect_timeout", e.errorCode(), e.getMessage());
        assertEquals(ErrorKind.TIMEOUT, e.kind());
      } finally {
        for (java.net.Socket s : fillers) {
          s.close();
        }
      }
    }
  }

  // ------------------------------------------------------------------ metrics

  @Test
  void metricsCountRequestsTokensCostAndLatency() throws Exception {
    ModelCatalog catalog = ModelCatalog.of(List.of(
        ModelEntry.builder("primary", "priced").contextWindow(10_000).pricing(Pricing.of("1", "2")).build()));
    LlmClient c = client("", catalog);
    primary.always(ok("counted"));
    await(c.chat(request("primary/priced")));
    eventually("the attempt is counted", () -> counter(c, "pekko.llm.requests", "outcome", "success") == 1.0);
    String text = c.metrics().scrape().orElseThrow();
    assertTrue(text.contains("pekko_llm_requests_total{model=\"priced\",outcome=\"success\",provider=\"primary\"} 1"),
        text);
    assertTrue(text.contains("pekko_llm_tokens_total{model=\"priced\",provider=\"primary\",type=\"input\"} 3"), text);
    assertTrue(text.contains("pekko_llm_cost_usd_total{model=\"priced\",provider=\"primary\"}"), text);
    assertTrue(text.contains("pekko_llm_request_duration_seconds_bucket"), text);
    assertTrue(text.contains("pekko_llm_time_to_first_token_seconds_count{model=\"priced\",provider=\"primary\"} 1"),
        text);
    assertTrue(text.contains("pekko_llm_circuit_breaker_state{provider=\"primary\"} 0"), text);
    assertTrue(text.contains("pekko_llm_in_flight{provider=\"primary\"} 0"), text);
  }

  private static int indexOfSecondEvent(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8);
    return s.indexOf("data:", 1);
  }

  private static String text(ChatChunk c) {
    return c.textDelta() == null ? "" : c.textDelta();
  }

  @Test
  void theServedModelIsUnknownUntilTheFirstChunk() {
    LlmClient c = client("");
    ChatStream handle = c.stream(request("primary/m")).to(Sink.ignore()).run(kit.system());
    assertInstanceOf(java.util.Optional.class, handle.servedModel());
    handle.cancel();
  }
}
