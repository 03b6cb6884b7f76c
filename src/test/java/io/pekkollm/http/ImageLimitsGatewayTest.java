package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The gateway answers a request whose image its provider would refuse with 413 in OpenAI's error shape. */
class ImageLimitsGatewayTest {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

  private static String body(int imageBytes) {
    byte[] image = new byte[imageBytes];
    System.arraycopy(PNG_SIGNATURE, 0, image, 0, PNG_SIGNATURE.length);
    return """
        {"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},
         {"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}}]}]}"""
        .formatted(Base64.getEncoder().encodeToString(image));
  }

  @Test
  void anImageOverTheProvidersLimitIs413AndNeverSent() throws Exception {
    try (GatewayFixture g = new GatewayFixture("pekko-llm.providers.openai.images.max-bytes = 1k")) {
      HttpResponse<String> r = g.post("/v1/chat/completions", body(1025));
      assertEquals(413, r.statusCode(), r.body());
      JsonNode error = Json.parse(r.body()).get("error");
      assertEquals("invalid_request_error", error.get("type").asText());
      assertEquals("messages", error.get("param").asText());
      assertTrue(error.get("message").asText().contains("is 1025 bytes; provider 'openai' accepts images of at most "
          + "1024 bytes"), r.body());
      assertEquals(0, g.upstream.requestCount());

      g.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
      HttpResponse<String> ok = g.post("/v1/chat/completions", body(1024));
      assertEquals(200, ok.statusCode(), ok.body());
      assertEquals(1, g.upstream.requestCount());
    }
  }
}
