package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.tracing.Tracing;
import java.lang.management.ManagementFactory;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * With tracing off the gateway makes no span and sends no traceparent of its own, but passes a client's traceparent
 * on to the upstream unchanged; and looking for that header allocates nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayTracingOffTest {
  private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private final GatewayFixture gw = new GatewayFixture("pekko-llm.tracing.enabled = off\n");

  @AfterAll
  void close() {
    gw.close();
  }

  @Test
  void noTraceparentIsSentWhenTheClientSentNone() throws Exception {
    assertFalse(gw.client.tracing().enabled());
    gw.upstream.reset();
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"));
    var resp = gw.post("/v1/chat/completions", "{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, resp.statusCode(), resp.body());
    assertNull(gw.upstream.requests().get(0).headers().get("traceparent"));
  }

  @Test
  void theClientsTraceparentIsPassedOnUnchanged() throws Exception {
    gw.upstream.reset();
    gw.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    var resp = gw.post("/v1/chat/completions", "{\"model\":\"openai/gpt-4o-mini\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "traceparent", TRACEPARENT);
    assertEquals(200, resp.statusCode(), resp.body());
    assertEquals(TRACEPARENT, gw.upstream.requests().get(0).headers().get("traceparent"));
  }

  @Test
  void lookingForATraceparentAllocatesNothing() {
    GatewayTracing tracing = new GatewayTracing(Tracing.off());
    HttpRequest req = HttpRequest.create("/v1/chat/completions").withMethod(HttpMethods.POST)
        .addHeader(RawHeader.create("Authorization", "Bearer x")).addHeader(RawHeader.create("Accept", "*/*"))
        .addHeader(RawHeader.create("User-Agent", "test"));
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    for (int i = 0; i < 20_000; i++) {
      assertSame(req, tracing.start(req));
    }
    long empty = measure(mx, thread, () -> {});
    long traced = measure(mx, thread, () -> tracing.start(req));
    // One object per request would be at least 16 bytes each, 1.6 MB in all; what remains is the counter's noise.
    assertTrue(traced - empty < 10_000, "allocated " + (traced - empty) + " bytes over 100000 requests");
    assertTrue(tracing.start(req.addHeader(RawHeader.create("traceparent", TRACEPARENT))) != null);
  }

  private static long measure(com.sun.management.ThreadMXBean mx, long thread, Runnable r) {
    long before = mx.getThreadAllocatedBytes(thread);
    for (int i = 0; i < 100_000; i++) {
      r.run();
    }
    return mx.getThreadAllocatedBytes(thread) - before;
  }
}
