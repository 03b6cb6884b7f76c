package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.Upstream.Reply;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Idle and hoarded TCP connections against the gateway's connection limits, with Pekko's max-connections lowered
 * so a bounded number of raw loopback sockets fills it. "Attackers" connect from 127.0.0.2 and up, everyone else
 * from 127.0.0.1.
 */
class GatewayConnectionsTest {
  private static final String CHAT = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private static void closeAll(List<Socket> sockets) {
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (Exception ignored) {
        // closing
      }
    }
  }

  @Test
  void idleSocketsBeyondMaxConnectionsFromOneAddressDoNotLockOthersOut() throws Exception {
    // 40 idle sockets would take all 24 connections; the per-address cap keeps them to 6.
    try (GatewayFixture gw = new GatewayFixture("pekko.http.server.max-connections = 24\n"
        + "pekko-llm.gateway.connections { max-per-address = 6, reserved-for-health = 2 }")) {
      List<Socket> idle = new ArrayList<>();
      try {
        for (int i = 0; i < 40; i++) {
          idle.add(RawHttp.connect("127.0.0.2", gw.port()));
        }
        assertEquals(200, RawHttp.status(RawHttp.exchange("127.0.0.1", gw.port(),
            RawHttp.request("GET", "/health", "127.0.0.1", "", null))));
        assertEquals(200, gw.get("/v1/models").statusCode());
        assertEquals(200, gw.post("/v1/chat/completions", CHAT).statusCode());
        int open = 0;
        for (Socket s : idle) {
          open += RawHttp.closedWithin(s, 300) ? 0 : 1;
        }
        assertTrue(open <= 6, open + " idle sockets of one address still open");
      } finally {
        closeAll(idle);
      }
    }
  }

  @Test
  void aConnectionWithoutACompleteRequestIsClosedAfterTheHeaderTimeoutButAStreamingAnswerIsNot() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.connections.request-header-timeout = 1s\n"
        + "pekko-llm.gateway.sse-keep-alive = 0s")) {
      // A stream that takes ~3 s, well past the header timeout.
      gw.upstream.always(Reply.sse(Sse.openAi(List.of("one ", "two ", "three ", "four ", "five ", "six"), true)
          .getBytes(StandardCharsets.UTF_8)).inPieces(200, Duration.ofMillis(300)));
      try (Socket silent = RawHttp.connect("127.0.0.1", gw.port());
          Socket slowHeaders = RawHttp.connect("127.0.0.1", gw.port());
          Socket streaming = RawHttp.connect("127.0.0.1", gw.port())) {
        slowHeaders.getOutputStream().write("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            .getBytes(StandardCharsets.UTF_8));
        String body = "{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"hi\"}]}";
        streaming.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/json\r\nConnection: close\r\nContent-Length: "
            + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
        long start = System.nanoTime();
        assertTrue(RawHttp.closedWithin(silent, 10_000), "a connection that sends nothing is closed");
        assertTrue(RawHttp.closedWithin(slowHeaders, 10_000), "a connection stuck in its headers is closed");
        InputStream in = streaming.getInputStream();
        String answer = RawHttp.readAll(in);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertTrue(answer.contains("data: [DONE]"), "the stream ran to its end (" + millis + " ms): " + answer);
        assertTrue(millis > 1_000, "the stream outlived the header timeout: " + millis + " ms");
      }
    }
  }

  @Test
  void whenConnectionsRunOutTheReserveStillAnswersHealth() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko.http.server.max-connections = 8\n"
        + "pekko-llm.gateway.connections { max-per-address = 0, reserved-for-health = 3 }")) {
      List<Socket> idle = new ArrayList<>();
      try {
        // Five ordinary connections (8 - 3) held by idle clients from several addresses.
        for (int i = 0; i < 5; i++) {
          idle.add(RawHttp.connect("127.0.0." + (2 + i), gw.port()));
        }
        // The kernel completes a handshake before the server accepts it, so the five are counted
        // asynchronously: wait (bounded) until an ordinary request is refused.
        String models = RawHttp.exchange("127.0.0.1", gw.port(),
            RawHttp.request("GET", "/v1/models", "127.0.0.1", "", null));
        for (int i = 0; i < 100 && RawHttp.status(models) != 503; i++) {
          Thread.sleep(50);
          models = RawHttp.exchange("127.0.0.1", gw.port(),
              RawHttp.request("GET", "/v1/models", "127.0.0.1", "", null));
        }
        assertEquals(503, RawHttp.status(models), models);
        String health = RawHttp.exchange("127.0.0.1", gw.port(),
            RawHttp.request("GET", "/health", "127.0.0.1", "", null));
        assertEquals(200, RawHttp.status(health), health);
        models = RawHttp.exchange("127.0.0.1", gw.port(),
            RawHttp.request("GET", "/v1/models", "127.0.0.1", "", null));
        assertEquals(503, RawHttp.status(models), "still refused while the five are held: " + models);
        assertTrue(models.contains("too_many_connections"), models);
        for (Socket s : idle) {
          assertFalse(RawHttp.closedWithin(s, 50), "ordinary idle connections stay within their timeout");
        }
      } finally {
        closeAll(idle);
      }
      // Once they are gone (the server notices asynchronously), ordinary requests are served again.
      int status = 0;
      for (int i = 0; i < 50 && status != 200; i++) {
        status = RawHttp.status(RawHttp.exchange("127.0.0.1", gw.port(),
            RawHttp.request("GET", "/v1/models", "127.0.0.1", "", null)));
        if (status != 200) {
          Thread.sleep(100);
        }
      }
      assertEquals(200, status);
    }
  }
}
