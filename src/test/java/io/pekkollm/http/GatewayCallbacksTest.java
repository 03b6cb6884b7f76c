package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway registers the callback sinks its configuration names: every request reaches them. */
class GatewayCallbacksTest {

  @Test
  void everyGatewayRequestReachesTheConfiguredWebhook() throws Exception {
    try (Upstream hook = new Upstream()) {
      hook.always(Reply.json(200, "{}"));
      try (GatewayFixture gw = new GatewayFixture("pekko-llm.callbacks { flush-interval = 1h, webhook { url = \""
          + hook.url("/hook") + "\", batch-size = 4 } }\n")) {
        assertEquals(200, gw.post("/v1/chat/completions",
            "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"whole\"}]}").statusCode());
        assertEquals(200, gw.post("/v1/chat/completions",
            "{\"model\":\"mock/echo\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"streamed\"}]}")
            .statusCode());
      }
      assertEquals(1, hook.requestCount(), "the four events go as one batch");
      JsonNode batch = Json.parse(hook.requests().get(0).body());
      List<String> kinds = new ArrayList<>();
      List<Boolean> streaming = new ArrayList<>();
      batch.forEach(e -> {
        kinds.add(e.get("event").asText());
        streaming.add(e.get("streaming").asBoolean());
        assertEquals("mock/echo", e.get("model").asText());
      });
      assertEquals(List.of("start", "success", "start", "success"), kinds);
      assertEquals(List.of(false, false, true, true), streaming);
      assertTrue(batch.get(3).has("ttft_ms"), batch.toString());
    }
  }
}
