package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Message;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * How each provider's translation sends images, asserted on the request a local upstream in its wire format
 * received: the same user turn (text, an image from bytes, an image from a data URL, and where the provider takes
 * links, a link) goes to OpenAI, Anthropic, Gemini, Bedrock, Ollama and Cohere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageWireContractTest {
  /** A real 1x1 PNG. */
  static final byte[] PNG = Base64.getDecoder().decode(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
  static final String PNG64 = Base64.getEncoder().encodeToString(PNG);
  static final String GIF64 = Base64.getEncoder().encodeToString("GIF89a\u0001\u0000\u0001\u0000".getBytes(
      java.nio.charset.StandardCharsets.ISO_8859_1));
  static final String LINK = "https://example.com/photos/cat.jpg";

  private Upstream upstream;
  private LlmClient llm;

  @BeforeAll
  void start() {
    upstream = new Upstream();
    llm = LlmClient.create(TestConfig.threeProviders(upstream,
        "pekko-llm.providers.ollama.base-url = \"" + upstream.url("") + "\"\n"
            + "pekko-llm.providers.cohere { base-url = \"" + upstream.url("") + "\", api-key = \"co-test\" }\n"
            + "pekko-llm.providers.bedrock { base-url = \"" + upstream.url("") + "\", api-key = \"secret\", "
            + "access-key-id = \"AKIDEXAMPLE\", region = us-east-1 }"));
  }

  @AfterAll
  void stop() {
    llm.close();
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  private JsonNode send(String model, String fixture, boolean withLink) throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, fixture));
    List<ContentPart> parts = new java.util.ArrayList<>(List.of(ContentPart.text("What is here?"),
        ContentPart.image(PNG), ContentPart.imageUrl("data:image/gif;base64," + GIF64)));
    if (withLink) {
      parts.add(ContentPart.imageUrl(LINK).withDetail("low"));
    }
    llm.chat(ChatRequest.builder(model).addMessage(Message.user(parts)).build())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(1, upstream.requests().size());
    return Json.parse(upstream.requests().get(0).body());
  }

  private static JsonNode json(String text) throws java.io.IOException {
    return Json.parse(text);
  }

  @Test
  void openAiGetsDataUrlsForInlineImagesAndLinksWithTheirDetail() throws Exception {
    JsonNode content = send("openai/gpt-4o-mini", "openai/chat-nonstream.json", true).get("messages").get(0)
        .get("content");
    assertEquals(json("""
        [{"type":"text","text":"What is here?"},
         {"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}},
         {"type":"image_url","image_url":{"url":"data:image/gif;base64,%s"}},
         {"type":"image_url","image_url":{"url":"%s","detail":"low"}}]""".formatted(PNG64, GIF64, LINK)), content);
  }

  @Test
  void anthropicGetsBase64SourcesWithMediaTypesAndUrlSourcesForLinks() throws Exception {
    JsonNode content = send("anthropic/claude-haiku-4-5", "anthropic/messages-nonstream.json", true)
        .get("messages").get(0).get("content");
    assertEquals(json("""
        [{"type":"text","text":"What is here?"},
         {"type":"image","source":{"type":"base64","media_type":"image/png","data":"%s"}},
         {"type":"image","source":{"type":"base64","media_type":"image/gif","data":"%s"}},
         {"type":"image","source":{"type":"url","url":"%s"}}]""".formatted(PNG64, GIF64, LINK)), content);
  }

  @Test
  void geminiGetsInlineDataAndFileDataForLinks() throws Exception {
    JsonNode parts = send("gemini/gemini-2.5-flash", "gemini/generate-content.json", true).get("contents").get(0)
        .get("parts");
    assertEquals(json("""
        [{"text":"What is here?"},
         {"inlineData":{"mimeType":"image/png","data":"%s"}},
         {"inlineData":{"mimeType":"image/gif","data":"%s"}},
         {"fileData":{"mimeType":"image/jpeg","fileUri":"%s"}}]""".formatted(PNG64, GIF64, LINK)), parts);
  }

  @Test
  void bedrockGetsImageBlocksWithFormatAndBytes() throws Exception {
    JsonNode content = send("bedrock/anthropic.claude-3-haiku-20240307-v1:0", "bedrock/converse-nonstream.json",
        false).get("messages").get(0).get("content");
    assertEquals(json("""
        [{"text":"What is here?"},
         {"image":{"format":"png","source":{"bytes":"%s"}}},
         {"image":{"format":"gif","source":{"bytes":"%s"}}}]""".formatted(PNG64, GIF64)), content);
  }

  @Test
  void ollamaGetsRawBase64InTheImagesField() throws Exception {
    JsonNode message = send("ollama/llava", "ollama/chat-nonstream.json", false).get("messages").get(0);
    assertEquals(json("""
        {"role":"user","content":"What is here?","images":["%s","%s"]}""".formatted(PNG64, GIF64)), message);
  }

  @Test
  void cohereGetsOpenAiStyleImageUrlParts() throws Exception {
    JsonNode content = send("cohere/command-a-vision-07-2025", "cohere/chat-v2-nonstream.json", true)
        .get("messages").get(0).get("content");
    assertEquals(json("""
        [{"type":"text","text":"What is here?"},
         {"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}},
         {"type":"image_url","image_url":{"url":"data:image/gif;base64,%s"}},
         {"type":"image_url","image_url":{"url":"%s","detail":"low"}}]""".formatted(PNG64, GIF64, LINK)), content);
  }
}
