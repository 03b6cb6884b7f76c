package io.pekkollm.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.pekkollm.model.Cost;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A gateway request's SERVER span ends once its response has been sent and every call and attempt made in it has
 * ended, in whichever order those come (a streamed answer's journal can finish after the client's body has), so
 * what they report (the cost) is on it; and it ends once.
 */
class ServerSpanTest {
  private static final AttributeKey<Double> COST = AttributeKey.doubleKey("pekko_llm.cost_usd");

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final Tracing tracing = Tracing.create(OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
      .build(), new TracingSettings(true, 16, 4));

  private static Cost cost(String usd) {
    BigDecimal z = BigDecimal.ZERO;
    return Cost.of(new BigDecimal(usd), z, z, z, z);
  }

  private Context server(String method, String path) {
    return Tracing.serverContext(Context.root(), tracing.startServer(Context.root(), method, path, path));
  }

  private CallTrace callIn(Context server, String model) {
    try (Scope s = server.makeCurrent()) {
      return tracing.startCall("chat", model);
    }
  }

  private List<SpanData> servers() {
    return exporter.getFinishedSpanItems().stream()
        .filter(s -> s.getKind() == io.opentelemetry.api.trace.SpanKind.SERVER).toList();
  }

  @Test
  void theResponseEndingFirstWaitsForTheCallAndItsAttempt() {
    Context server = server("POST", "/v1/chat/completions");
    CallTrace call = callIn(server, "g");
    AttemptTrace attempt = call.attempt("chat", "openai", "openai", "http://127.0.0.1:1", "m", 1);

    Tracing.endServer(server, 200); // the client's body has been sent
    call.end(null);                 // the call's stream has ended
    assertTrue(servers().isEmpty(), "still held by the attempt, whose cost is not yet known");

    long beforeAttemptEnded = Tracing.epochNanos();
    attempt.end("m", null, cost("0.25"), null, null);
    assertEquals(1, servers().size());
    SpanData span = servers().get(0);
    assertEquals(0.25, span.getAttributes().get(COST));
    assertEquals(200L, span.getAttributes().get(AttributeKey.longKey("http.response.status_code")));
    assertTrue(span.getEndEpochNanos() <= beforeAttemptEnded, "it ends when its response was sent");
  }

  @Test
  void theCallEndingFirstLeavesTheResponseToEndIt() {
    Context server = server("POST", "/v1/messages");
    CallTrace call = callIn(server, "g");
    AttemptTrace failed = call.attempt("chat", "a", "openai", "http://127.0.0.1:1", "m", 1);
    failed.end(null, null, null, null, new RuntimeException("boom"));
    AttemptTrace served = call.attempt("chat", "b", "openai", "http://127.0.0.1:1", "m", 2);
    served.end("m", null, cost("0.5"), null, null);
    call.end(null);
    assertTrue(servers().isEmpty(), "the response is still being sent");

    Tracing.endServer(server, 200);
    Tracing.endServer(server, 200); // a second end (never expected) changes nothing
    assertEquals(1, servers().size());
    assertEquals(0.5, servers().get(0).getAttributes().get(COST));
  }

  @Test
  void aSecondEndWhileAnAttemptHoldsTheSpanDoesNotEndItEarly() {
    Context server = server("POST", "/v1/chat/completions");
    CallTrace call = callIn(server, "g");
    AttemptTrace attempt = call.attempt("chat", "openai", "openai", "http://127.0.0.1:1", "m", 1);
    call.end(null);
    Tracing.endServer(server, 200);
    Tracing.endServer(server, 200); // must not let go of the attempt's hold as well
    assertTrue(servers().isEmpty(), "the attempt has not reported its cost yet");
    attempt.end("m", null, cost("0.75"), null, null);
    assertEquals(1, servers().size());
    assertEquals(0.75, servers().get(0).getAttributes().get(COST));
  }

  @Test
  void aCallMadeAfterTheResponseEndedGetsItsOwnSpan() {
    Context server = server("GET", "/v1/models");
    Tracing.endServer(server, 200);
    assertEquals(1, servers().size());
    CallTrace call = callIn(server, "late");
    call.end(null);
    assertEquals(1, servers().size(), "the ended SERVER span is not ended again");
    assertEquals(2, exporter.getFinishedSpanItems().size(), "the late call made its own span");
  }
}
