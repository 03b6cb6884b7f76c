package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The chat-completions hot path is answered outside the routing tree: it must keep the access log, the key
 * check and the routing tree's answers for everything around it (other methods, trailing slash).
 */
class GatewayAccessLogTest {
  private static final String GOOD = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  @Test
  void theDirectPathAndTheRoutedPathAreBothLogged() throws Exception {
    Logger access = (Logger) LoggerFactory.getLogger("io.pekkollm.access");
    ListAppender<ILoggingEvent> seen = new ListAppender<>();
    seen.start();
    access.addAppender(seen);
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.access-log = on\n")) {
      assertEquals(200, gw.post("/v1/chat/completions", GOOD).statusCode());
      assertEquals(400, gw.post("/v1/chat/completions", "{not json").statusCode());
      assertEquals(200, gw.get("/health").statusCode());
      List<String> lines = waitForLines(seen, 3);
      assertTrue(lines.get(0).matches("POST /v1/chat/completions 200 \\d+\\.\\d\\d ms model=mock/echo"), lines.get(0));
      assertTrue(lines.get(1).matches("POST /v1/chat/completions 400 \\d+\\.\\d\\d ms"), lines.get(1));
      assertTrue(lines.get(2).matches("GET /health 200 \\d+\\.\\d\\d ms"), lines.get(2));
    } finally {
      access.detachAppender(seen);
    }
  }

  @Test
  void theDirectPathChecksTheKeyAndLeavesOtherShapesToTheRoutes() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.api-key = \"k1\"\n")) {
      HttpResponse<String> denied = gw.post("/v1/chat/completions", GOOD);
      assertEquals(401, denied.statusCode());
      assertTrue(denied.body().contains("authentication_error"), denied.body());
      assertEquals(200, gw.post("/v1/chat/completions", GOOD, "Authorization", "Bearer k1").statusCode());
      HttpResponse<String> get = gw.get("/v1/chat/completions", "Authorization", "Bearer k1");
      assertEquals(405, get.statusCode());
      assertTrue(get.body().contains("\"error\""), get.body());
      assertEquals(404, gw.post("/v1/chat/completions/x", GOOD, "Authorization", "Bearer k1").statusCode());
    }
  }

  private static List<String> waitForLines(ListAppender<ILoggingEvent> seen, int n) throws InterruptedException {
    for (int i = 0; i < 200 && seen.list.size() < n; i++) {
      Thread.sleep(25);
    }
    synchronized (seen.list) {
      return seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }
}
