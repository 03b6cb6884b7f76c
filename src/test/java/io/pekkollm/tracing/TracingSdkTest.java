package io.pekkollm.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The SDK tracing builds from the standard OTEL_* settings exports over OTLP/HTTP to the endpoint named (a local
 * server standing in for a collector); and the settings decide on and off as documented.
 */
class TracingSdkTest {

  @Test
  void theAutoconfiguredSdkExportsOverOtlpHttp() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    HttpServer sink = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    sink.createContext("/", ex -> {
      byte[] body = ex.getRequestBody().readAllBytes();
      received.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " "
          + ex.getRequestHeaders().getFirst("Content-Type") + " " + body.length);
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    sink.start();
    String endpoint = "http://127.0.0.1:" + sink.getAddress().getPort();
    System.setProperty("otel.exporter.otlp.endpoint", endpoint);
    try {
      Tracing tracing = Tracing.fromSettings(new TracingSettings(true, 16, 4));
      assertTrue(tracing.enabled());
      CallTrace call = tracing.startCall("chat", "mock/echo");
      assertTrue(call.recording());
      AttemptTrace attempt = call.attempt("chat", "mock", "mock", "http://127.0.0.1:1", "echo", 1);
      assertTrue(attempt.headers().get("traceparent").startsWith("00-"), attempt.headers().toString());
      attempt.end("echo", null, null, null, null);
      call.end(null);
      tracing.close(); // flushes the batch processor
      assertFalse(received.isEmpty(), "nothing exported to " + endpoint);
      assertTrue(received.get(0).startsWith("POST /v1/traces application/x-protobuf"), received.toString());
    } finally {
      System.clearProperty("otel.exporter.otlp.endpoint");
      sink.stop(0);
    }
  }

  @Test
  void autoTurnsOnWithAnOtlpEndpointOnly() {
    var config = ConfigFactory.parseString("pekko-llm.tracing { enabled = auto, journal-span-every = 16, "
        + "journal-spans-per-stream = 4 }");
    assertFalse(TracingSettings.create(config, Map.of()).enabled());
    assertTrue(TracingSettings.create(config, Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")).enabled());
    assertTrue(TracingSettings.create(config, Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://x:4318")).enabled());
    assertFalse(TracingSettings.create(config, Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318",
        "OTEL_SDK_DISABLED", "true")).enabled());
    assertTrue(TracingSettings.create(ConfigFactory.parseString("pekko-llm.tracing.enabled = on")
        .withFallback(config), Map.of()).enabled());
    assertFalse(TracingSettings.create(ConfigFactory.parseString("pekko-llm.tracing.enabled = off")
        .withFallback(config), Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")).enabled());
    assertThrows(IllegalArgumentException.class, () -> TracingSettings.create(ConfigFactory.parseString(
        "pekko-llm.tracing.journal-span-every = -1").withFallback(config), Map.of()));
    assertSame(Tracing.off(), Tracing.fromSettings(TracingSettings.OFF));
    assertEquals(16, TracingSettings.create(config, Map.of()).journalSpanEvery());
  }
}
