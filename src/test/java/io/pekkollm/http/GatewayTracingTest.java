package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Traces through the gateway into an in-memory exporter: the span tree of a streamed call with a retry and a
 * fallback, its GenAI and pekko_llm attributes, the traceparent the upstream requests carry, and (with tracing off)
 * that only a client's own traceparent is passed on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayTracingTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CLIENT_SPAN = "00f067aa0ba902b7";
  private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + CLIENT_SPAN + "-01";

  private final Upstream upstream = new Upstream();
  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
      .build();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private final LlmClient client;
  private final ServerBinding binding;

  GatewayTracingTest() throws Exception {
    Config config = TestConfig.of(
        "pekko-llm.providers.flaky { kind = openai, base-url = \"" + upstream.url("/v1") + "\", api-key = \"sk-flaky\"\n"
        + "  retry { max-attempts = 2, initial-backoff = 1ms, max-backoff = 1ms } }\n"
        + "pekko-llm.providers.openai { base-url = \"" + upstream.url("/v1") + "\", api-key = \"sk-openai\" }\n"
        + "pekko-llm.routing.groups { g = [\"flaky/m1\", \"openai/gpt-4o-mini\"] }\n"
        + "pekko-llm.tracing.journal-span-every = 1\n"
        + "pekko-llm.gateway.port = 0\npekko-llm.gateway.access-log = off\n");
    client = LlmClient.builder().config(config).openTelemetry(sdk).build();
    binding = GatewayServer.start(client, GatewaySettings.create(config)).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void reset() {
    upstream.reset();
    exporter.reset();
  }

  @AfterAll
  void close() {
    binding.unbind();
    client.close();
    upstream.close();
    sdk.close();
  }

  private HttpResponse<String> post(String body, String... headers) throws Exception {
    return postTo("/v1/chat/completions", body, headers);
  }

  private HttpResponse<String> postTo(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + binding.localAddress().getPort()
            + path))
        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The finished spans once one matches {@code done} (bounded wait: the SERVER span ends after the body is sent). */
  private List<SpanData> spansWhen(Predicate<SpanData> done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      List<SpanData> spans = exporter.getFinishedSpanItems();
      if (spans.stream().anyMatch(done)) {
        return spans;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no such span within 10 s; got " + exporter.getFinishedSpanItems());
  }

  private static <T> T attr(SpanData s, AttributeKey<T> key) {
    return s.getAttributes().get(key);
  }

  @Test
  void streamedCallWithARetryAndAFallbackGivesOneServerSpanWithSiblingAttempts() throws Exception {
    upstream.enqueue(Reply.fixtureJson(500, "openai/error-500-server-error.json"))
        .enqueue(Reply.fixtureJson(500, "openai/error-500-server-error.json"))
        .enqueue(Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"));
    HttpResponse<String> resp = post("{\"model\":\"g\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}", "traceparent", TRACEPARENT);
    assertEquals(200, resp.statusCode(), resp.body());
    assertTrue(resp.body().contains("[DONE]"), resp.body());

    List<SpanData> spans = spansWhen(s -> s.getKind() == SpanKind.SERVER);
    SpanData server = spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
    assertEquals("POST /v1/chat/completions", server.getName());
    assertEquals(TRACE_ID, server.getTraceId(), "the client's traceparent is the parent");
    assertEquals(CLIENT_SPAN, server.getParentSpanId());
    assertEquals(200L, attr(server, AttributeKey.longKey("http.response.status_code")));
    assertEquals("chat", attr(server, AttributeKey.stringKey("gen_ai.operation.name")));
    assertEquals("g", attr(server, AttributeKey.stringKey("gen_ai.request.model")));
    assertEquals("openai/gpt-4o-mini", attr(server, AttributeKey.stringKey("pekko_llm.served_model")));
    assertNull(attr(server, AttributeKey.stringKey("gen_ai.response.model")), "on the attempt span, not twice");
    assertNull(attr(server, AttributeKey.longKey("gen_ai.usage.input_tokens")), "on the attempt span, not twice");
    assertNotNull(attr(server, AttributeKey.doubleKey("pekko_llm.cost_usd")), "priced from the catalog");
    String recoveryId = attr(server, AttributeKey.stringKey("pekko_llm.recovery_id"));
    assertEquals(resp.headers().firstValue("X-Recovery-Id").orElseThrow(), recoveryId);

    List<SpanData> attempts = spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT)
        .sorted(Comparator.comparingLong(SpanData::getStartEpochNanos)).toList();
    assertEquals(3, attempts.size(), "two attempts on flaky/m1, one on the fallback: " + attempts);
    for (SpanData a : attempts) {
      assertEquals(server.getSpanId(), a.getParentSpanId(), "attempts are siblings under the server span");
      assertEquals(TRACE_ID, a.getTraceId());
      assertEquals("chat", attr(a, AttributeKey.stringKey("gen_ai.operation.name")));
      assertEquals("openai", attr(a, AttributeKey.stringKey("gen_ai.system")));
      assertEquals("127.0.0.1", attr(a, AttributeKey.stringKey("server.address")));
      assertEquals((long) upstream.port(), attr(a, AttributeKey.longKey("server.port")));
    }
    assertEquals(List.of("chat m1", "chat m1", "chat gpt-4o-mini"), attempts.stream().map(SpanData::getName).toList());
    assertEquals(List.of(1L, 2L, 1L), attempts.stream().map(a -> attr(a, AttributeKey.longKey("pekko_llm.attempt"))).toList());
    assertEquals(List.of("flaky", "flaky", "openai"),
        attempts.stream().map(a -> attr(a, AttributeKey.stringKey("pekko_llm.provider"))).toList());
    for (SpanData failed : attempts.subList(0, 2)) {
      assertEquals(StatusCode.ERROR, failed.getStatus().getStatusCode());
      assertEquals("server_error", attr(failed, AttributeKey.stringKey("error.type")));
    }
    SpanData served = attempts.get(2);
    assertEquals(StatusCode.UNSET, served.getStatus().getStatusCode());
    assertNull(attr(served, AttributeKey.stringKey("error.type")));
    assertEquals("gpt-4o-mini", attr(served, AttributeKey.stringKey("gen_ai.request.model")));
    assertEquals("gpt-4o-2024-08-06", attr(served, AttributeKey.stringKey("gen_ai.response.model")));
    assertEquals(14L, attr(served, AttributeKey.longKey("gen_ai.usage.input_tokens")));
    assertEquals(30L, attr(served, AttributeKey.longKey("gen_ai.usage.output_tokens")));
    assertEquals(List.of("stop"), attr(served, AttributeKey.stringArrayKey("gen_ai.response.finish_reasons")));

    List<SpanData> journal = spans.stream().filter(s -> s.getName().equals("journal write")).toList();
    assertFalse(journal.isEmpty(), "the journal writes of the stream are traced");
    assertTrue(journal.size() <= 4, "at most journal-spans-per-stream: " + journal.size());
    journal.forEach(j -> assertEquals(server.getSpanId(), j.getParentSpanId()));

    // Each upstream request carries its own attempt's span as parent, in the client's trace.
    List<Upstream.Recorded> sent = upstream.requests();
    assertEquals(3, sent.size());
    for (int i = 0; i < 3; i++) {
      assertEquals("00-" + TRACE_ID + "-" + attempts.get(i).getSpanId() + "-01", sent.get(i).headers().get("traceparent"));
    }
  }

  @Test
  void wholeCallWithoutTraceparentStartsATraceThatTheUpstreamContinues() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    HttpResponse<String> resp = post("{\"model\":\"openai/gpt-4o-mini\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, resp.statusCode(), resp.body());
    List<SpanData> spans = spansWhen(s -> s.getKind() == SpanKind.SERVER);
    SpanData server = spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
    assertFalse(server.getParentSpanContext().isValid(), "a new trace");
    SpanData attempt = spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst().orElseThrow();
    assertEquals(server.getSpanId(), attempt.getParentSpanId());
    assertNotNull(attr(attempt, AttributeKey.longKey("gen_ai.usage.input_tokens")));
    String sent = upstream.requests().get(0).headers().get("traceparent");
    // Flags 01 or 03: sampled, with or without W3C level 2's random-trace-id bit.
    assertTrue(sent.startsWith("00-" + server.getTraceId() + "-" + attempt.getSpanId() + "-0"), sent);
  }

  @Test
  void badRequestIsTracedAsA4xxWithoutAttempts() throws Exception {
    HttpResponse<String> resp = post("{\"model\":", "traceparent", TRACEPARENT);
    assertEquals(400, resp.statusCode());
    List<SpanData> spans = spansWhen(s -> s.getKind() == SpanKind.SERVER);
    SpanData server = spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
    assertEquals(400L, attr(server, AttributeKey.longKey("http.response.status_code")));
    assertEquals(StatusCode.UNSET, server.getStatus().getStatusCode(), "a client error is not a server error");
    assertTrue(spans.stream().noneMatch(s -> s.getKind() == SpanKind.CLIENT));
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void embeddedCallIsAChildOfTheCallersCurrentSpan() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    Span parent = sdk.getTracer("test").spanBuilder("caller").startSpan();
    try (Scope s = parent.makeCurrent()) {
      client.chat(ChatRequest.builder("openai/gpt-4o-mini").user("hi").build()).toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } finally {
      parent.end();
    }
    List<SpanData> spans = spansWhen(s -> s.getName().equals("caller"));
    SpanData call = spans.stream().filter(s -> s.getKind() == SpanKind.INTERNAL && s.getName().equals("chat openai/gpt-4o-mini"))
        .findFirst().orElseThrow(() -> new AssertionError(spans.toString()));
    assertEquals(parent.getSpanContext().getSpanId(), call.getParentSpanId());
    SpanData attempt = spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst().orElseThrow();
    assertEquals(call.getSpanId(), attempt.getParentSpanId());
    assertNotNull(attr(attempt, AttributeKey.longKey("gen_ai.usage.output_tokens")));
    assertNull(attr(call, AttributeKey.longKey("gen_ai.usage.output_tokens")), "on the attempt span, not twice");
    assertNotNull(attr(call, AttributeKey.doubleKey("pekko_llm.cost_usd")), "the call's cost");
  }

  @Test
  void embeddingsAttemptsSendTheirSpanAsTraceparentUpstream() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
        + "\"embedding\":[0.1,0.2]}],\"model\":\"text-embedding-3-small\","
        + "\"usage\":{\"prompt_tokens\":2,\"total_tokens\":2}}"));
    HttpResponse<String> resp = postTo("/v1/embeddings",
        "{\"model\":\"openai/text-embedding-3-small\",\"input\":\"hello\"}", "traceparent", TRACEPARENT);
    assertEquals(200, resp.statusCode(), resp.body());
    List<SpanData> spans = spansWhen(s -> s.getKind() == SpanKind.SERVER);
    SpanData attempt = spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst()
        .orElseThrow(() -> new AssertionError(spans.toString()));
    assertEquals("embeddings", attr(attempt, AttributeKey.stringKey("gen_ai.operation.name")));
    assertEquals(TRACE_ID, attempt.getTraceId());
    assertEquals("00-" + TRACE_ID + "-" + attempt.getSpanId() + "-01",
        upstream.requests().get(0).headers().get("traceparent"), "the embeddings request carries its attempt's span");
  }

  @Test
  void aResumedStreamsContinuationIsTracedUnderTheResumeRequest() throws Exception {
    List<String> deltas = List.of("one ", "two ", "three ", "four.");
    String full = Sse.openAi(deltas, true);
    int cut = Sse.openAi(deltas.subList(0, 2), false).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    upstream.enqueue(Reply.sse(full.getBytes(java.nio.charset.StandardCharsets.UTF_8)).truncatedAfter(cut + 1));
    HttpResponse<String> first = post("{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"count\"}]}");
    String recoveryId = first.headers().firstValue("X-Recovery-Id").orElseThrow();
    spansWhen(s -> s.getKind() == SpanKind.SERVER);
    exporter.reset();

    upstream.enqueue(Reply.sse(Sse.openAi(List.of("three ", "four."), true)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    HttpResponse<String> resumed = postTo("/v1/streams/" + recoveryId + "/resume", "{\"strategy\":\"exact\"}",
        "traceparent", TRACEPARENT);
    assertEquals(200, resumed.statusCode(), resumed.body());
    assertTrue(resumed.body().contains("[DONE]"), resumed.body());
    List<SpanData> spans = spansWhen(s -> s.getKind() == SpanKind.SERVER);
    SpanData server = spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
    assertEquals("POST /v1/streams/{id}/resume", server.getName());
    assertEquals(TRACE_ID, server.getTraceId());
    SpanData attempt = spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst()
        .orElseThrow(() -> new AssertionError("the continuation's attempt is traced: " + spans));
    assertEquals(server.getSpanId(), attempt.getParentSpanId(), "the continuation runs under the resume request");
    assertEquals("chat gpt-4o-mini", attempt.getName());
    assertEquals("00-" + TRACE_ID + "-" + attempt.getSpanId() + "-01",
        upstream.requests().get(upstream.requests().size() - 1).headers().get("traceparent"));
  }

  /** A structured answer for {@link #aStructuredOutputsRepairIsTracedInTheCallersTrace}. */
  record City(String name, int population) {}

  private static String completion(String content) {
    return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        + io.pekkollm.util.Json.write(com.fasterxml.jackson.databind.node.TextNode.valueOf(content)) + "},\"finish_reason\":\"stop\"}],"
        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":5,\"total_tokens\":10}}";
  }

  @Test
  void aStructuredOutputsRepairIsTracedInTheCallersTrace() throws Exception {
    upstream.enqueue(Reply.json(200, completion("{\"name\":\"Oslo\"}")))
        .enqueue(Reply.json(200, completion("{\"name\":\"Oslo\",\"population\":709000}")));
    Span parent = sdk.getTracer("test").spanBuilder("caller").startSpan();
    City city;
    try (Scope s = parent.makeCurrent()) {
      city = client.chat(ChatRequest.builder("openai/gpt-4o-mini").user("a city").build(), City.class)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      parent.end();
    }
    assertEquals(new City("Oslo", 709000), city, "the second answer, after a repair");
    List<SpanData> spans = spansWhen(s -> s.getName().equals("caller"));
    List<SpanData> calls = spans.stream().filter(s -> s.getKind() == SpanKind.INTERNAL
        && s.getName().equals("chat openai/gpt-4o-mini")).toList();
    assertEquals(2, calls.size(), "the first call and its repair: " + spans);
    for (SpanData call : calls) {
      assertEquals(parent.getSpanContext().getTraceId(), call.getTraceId());
      assertEquals(parent.getSpanContext().getSpanId(), call.getParentSpanId(), "both under the caller's span");
    }
    assertEquals(2, spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).count());
  }
}
