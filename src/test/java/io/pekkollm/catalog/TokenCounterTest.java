package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.util.Json;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Counts checked against published tiktoken figures: OpenAI's cookbook "How to count tokens with tiktoken"
 * (its encoding comparisons, and the API's own prompt_tokens for its example conversation with and without a
 * tool) and the vision guide's image examples.
 */
class TokenCounterTest {
  private static final TokenCounter TOKENS = TokenCounter.shared();

  @Test
  void countsTextLikeTiktoken() {
    for (String model : new String[] {"openai/gpt-4o", "openai/gpt-4"}) {
      assertEquals(2, TOKENS.countText(model, "hello world"), model);
      assertEquals(6, TOKENS.countText(model, "tiktoken is great!"), model);
      assertEquals(7, TOKENS.countText(model, "2 + 2 = 4"), model);
      assertEquals(6, TOKENS.countText(model, "antidisestablishmentarianism"), model);
    }
    // The cookbook's example where the encodings differ: cl100k_base 9 tokens, o200k_base 8.
    assertEquals(9, TOKENS.countText("openai/gpt-4", "お誕生日おめでとう"));
    assertEquals(8, TOKENS.countText("openai/gpt-4o", "お誕生日おめでとう"));
    assertEquals(0, TOKENS.countText("openai/gpt-4o", ""));
  }

  @Test
  void aVeryLongRunIsCountedInPiecesAsAnEstimate() {
    java.util.Random r = new java.util.Random(3);
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < 200_000; i++) {
      word.append((char) ('a' + r.nextInt(26)));
    }
    String prose = "The tide rises twice a day, because the Moon pulls the sea. ".repeat(3000);
    var whole = com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry()
        .getEncoding(com.knuddels.jtokkit.api.EncodingType.O200K_BASE);
    // Prose has no run to cut: counted whole, exactly as before.
    assertEquals(whole.countTokensOrdinary(prose), TOKENS.countText("openai/gpt-4o", prose));
    assertTrue(TOKENS.count(ChatRequest.builder("openai/gpt-4o").user(prose).build()).exact());
    // A 200,000-letter word (and a run of spaces, and of symbols) in pieces of 256: within 1% of the whole count.
    for (String run : new String[] {word.toString(), "x " + " ".repeat(50_000) + "y", "=-".repeat(40_000),
        "🌕".repeat(30_000)}) {
      int exact = whole.countTokensOrdinary(run);
      int pieces = TOKENS.countText("openai/gpt-4o", run);
      assertTrue(Math.abs(pieces - exact) <= exact / 100 + 1, pieces + " vs " + exact);
      assertFalse(TOKENS.count(ChatRequest.builder("openai/gpt-4o").user(run).build()).exact(),
          "a count in pieces is an estimate");
    }
    // Never cut between the halves of a surrogate pair.
    String emoji = "🌕".repeat(300);
    int cut = TokenCounter.nextCut(emoji, 0);
    assertTrue(cut > 0 && !Character.isLowSurrogate(emoji.charAt(cut)), "cut at " + cut);
    assertEquals(-1, TokenCounter.nextCut("1234567890".repeat(1000), 0), "digits are never cut");
  }

  @Test
  void specialTokenTextIsCountedAsOrdinaryText() {
    // A user may paste "<|endoftext|>"; the API counts it as text, and counting must not throw.
    assertEquals(7, TOKENS.countText("openai/gpt-4o", "<|endoftext|>"));
  }

  @Test
  void picksTheEncodingOfEachOpenAiModel() {
    for (String m : new String[] {"gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "chatgpt-4o-latest", "gpt-4.1",
        "gpt-4.1-nano", "gpt-4.5-preview", "gpt-5", "gpt-5-mini", "o1", "o1-mini", "o3", "o3-mini", "o4-mini",
        "ft:gpt-4o-mini-2024-07-18", "codex-mini-latest"}) {
      assertEquals("o200k_base", TOKENS.encodingName("openai/" + m), m);
      assertTrue(TOKENS.isExact("openai/" + m), m);
    }
    for (String m : new String[] {"gpt-4", "gpt-4-0613", "gpt-4-turbo", "gpt-4-32k", "gpt-3.5-turbo",
        "gpt-3.5-turbo-0125", "ft:gpt-3.5-turbo", "text-embedding-3-small"}) {
      assertEquals("cl100k_base", TOKENS.encodingName("openai/" + m), m);
      assertTrue(TOKENS.isExact("openai/" + m), m);
    }
    assertEquals("o200k_base", TOKENS.encodingName("openrouter/openai/gpt-4o"));
    assertTrue(TOKENS.isExact("openrouter/openai/gpt-4o"));
    // An OpenAI model this version does not know: cl100k_base, and only an estimate.
    assertEquals("cl100k_base", TOKENS.encodingName("openai/some-future-model"));
    assertFalse(TOKENS.isExact("openai/some-future-model"));
    for (String other : new String[] {"anthropic/claude-3-5-haiku-20241022", "gemini/gemini-1.5-flash",
        "groq/llama-3.1-8b-instant", "mock/echo", "myserver/qwen"}) {
      assertEquals("cl100k_base", TOKENS.encodingName(other), other);
      assertFalse(TOKENS.isExact(other), other);
    }
  }

  /** The cookbook's example conversation; its system messages 1-4 carry names, which Message.System lacks. */
  private static final List<String[]> COOKBOOK = List.of(
      new String[] {null, "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
      new String[] {"example_user", "New synergies will help drive top-line growth."},
      new String[] {"example_assistant", "Things working well together will increase revenue."},
      new String[] {"example_user", "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
      new String[] {"example_assistant", "Let's talk later when we're less busy about how to do better."});
  private static final String COOKBOOK_USER =
      "This late pivot means we don't have time to boil the ocean for the client deliverable.";

  @Test
  void countsMessagesAsTheApiDoes() {
    // Published: 129 prompt tokens for gpt-3.5-turbo and gpt-4, 124 for gpt-4o and gpt-4o-mini (API counts).
    for (var expect : List.of(new Object[] {"openai/gpt-4", 129}, new Object[] {"openai/gpt-3.5-turbo", 129},
        new Object[] {"openai/gpt-4o", 124}, new Object[] {"openai/gpt-4o-mini", 124})) {
      String model = (String) expect[0];
      ChatRequest.Builder b = ChatRequest.builder(model);
      int names = 0;
      for (String[] m : COOKBOOK) {
        b.system(m[1]);
        if (m[0] != null) {
          // A name costs one token plus its own (the rule checked on user messages below).
          names += 1 + TOKENS.countText(model, m[0]);
        }
      }
      ChatRequest r = b.user(COOKBOOK_USER).build();
      TokenCount c = TOKENS.count(r);
      assertEquals(expect[1], c.tokens() + names, model);
      assertTrue(c.exact(), model);
    }
  }

  @Test
  void aNameCostsOneTokenPlusItsOwn() {
    Message plain = Message.user("hello world");
    Message named = new Message.User(List.of(ContentPart.text("hello world")), "example_user");
    int withoutName = TOKENS.countMessages("openai/gpt-4o", List.of(plain)).tokens();
    int withName = TOKENS.countMessages("openai/gpt-4o", List.of(named)).tokens();
    // 3 per message + "user" (1) + "hello world" (2) + 3 reply priming.
    assertEquals(9, withoutName);
    assertEquals(withoutName + 1 + TOKENS.countText("openai/gpt-4o", "example_user"), withName);
  }

  @Test
  void countsToolDefinitionsAsTheApiDoes() throws IOException {
    JsonNode params = Json.parse("""
        {"type": "object",
         "properties": {
           "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
           "unit": {"type": "string", "description": "The unit of temperature to return",
                    "enum": ["celsius", "fahrenheit"]}},
         "required": ["location"]}""");
    ToolDefinition weather = ToolDefinition.of("get_current_weather", "Get the current weather in a given location",
        params);
    // Published: 105 prompt tokens for gpt-3.5-turbo and gpt-4, 101 for gpt-4o and gpt-4o-mini (API counts).
    for (var expect : List.of(new Object[] {"openai/gpt-4", 105}, new Object[] {"openai/gpt-3.5-turbo", 105},
        new Object[] {"openai/gpt-4o", 101}, new Object[] {"openai/gpt-4o-mini", 101})) {
      ChatRequest r = ChatRequest.builder((String) expect[0])
          .system("You are a helpful assistant that can answer to questions about the weather.")
          .user("What's the weather like in San Francisco?")
          .tools(List.of(weather))
          .build();
      TokenCount c = TOKENS.count(r);
      assertEquals(expect[1], c.tokens(), (String) expect[0]);
      assertFalse(c.exact(), "the tool format is an approximation");
    }
  }

  @Test
  void toolCallsAndResultsAreCountedAsAnEstimate() {
    ChatRequest r = ChatRequest.builder("openai/gpt-4o")
        .user("weather?")
        .addMessage(Message.assistant(null, List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}"))))
        .addMessage(Message.tool("call_1", "18°C"))
        .build();
    TokenCount c = TOKENS.count(r);
    int expected = 3 + (3 + 1 + TOKENS.countText("openai/gpt-4o", "weather?"))
        + (3 + 1 + 3 + TOKENS.countText("openai/gpt-4o", "get_weather")
            + TOKENS.countText("openai/gpt-4o", "{\"city\":\"Paris\"}"))
        + (3 + 1 + TOKENS.countText("openai/gpt-4o", "18°C"));
    assertEquals(expected, c.tokens());
    assertFalse(c.exact());
  }

  // ------------------------------------------------------------------ images

  private static byte[] image(String format, int w, int h) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out), format);
    return out.toByteArray();
  }

  @Test
  void readsImageSizesFromTheirHeaders() throws IOException {
    assertEquals(new ImageSize(1024, 768), ImageSize.of(image("png", 1024, 768)).orElseThrow());
    assertEquals(new ImageSize(300, 200), ImageSize.of(image("jpg", 300, 200)).orElseThrow());
    assertEquals(new ImageSize(33, 17), ImageSize.of(image("gif", 33, 17)).orElseThrow());
    byte[] webp = new byte[30];
    System.arraycopy("RIFF".getBytes(), 0, webp, 0, 4);
    System.arraycopy("WEBPVP8X".getBytes(), 0, webp, 8, 8);
    webp[24] = (byte) 0xFF;  // width - 1 = 0x0003FF → 1024
    webp[25] = 0x03;
    webp[27] = (byte) 0xFF;  // height - 1 = 0x0001FF → 512
    webp[28] = 0x01;
    assertEquals(new ImageSize(1024, 512), ImageSize.of(webp).orElseThrow());
    assertTrue(ImageSize.of(new byte[] {1, 2, 3}).isEmpty());
    String b64 = Base64.getEncoder().encodeToString(image("png", 64, 32));
    assertEquals(new ImageSize(64, 32), ImageSize.of(ContentPart.imageBase64("image/png", b64)).orElseThrow());
    assertEquals(new ImageSize(64, 32),
        ImageSize.of(ContentPart.imageUrl("data:image/png;base64," + b64)).orElseThrow());
    assertTrue(ImageSize.of(ContentPart.imageUrl("https://example.com/cat.png")).isEmpty());
  }

  @Test
  void imageTilesFollowOpenAisFormula() {
    ImageTokens gpt4o = new ImageTokens.Tiles(85, 170, true);
    // The vision guide's examples: 1024×1024 high → 765, 2048×4096 high → 1105, 4096×8192 low → 85.
    assertEquals(765, gpt4o.tokens(new ImageSize(1024, 1024), "high"));
    assertEquals(1105, gpt4o.tokens(new ImageSize(2048, 4096), "high"));
    assertEquals(85, gpt4o.tokens(new ImageSize(4096, 8192), "low"));
    assertEquals(255, gpt4o.tokens(new ImageSize(512, 512), null), "small images are not scaled up");
    assertEquals(85 + 8 * 170, gpt4o.tokens(null, "auto"), "unknown size counts the largest image");
    assertEquals(1334, new ImageTokens.Anthropic().tokens(new ImageSize(1000, 1000), null));
    assertEquals(258, new ImageTokens.Gemini().tokens(new ImageSize(384, 300), null));
    assertEquals(4 * 258, new ImageTokens.Gemini().tokens(new ImageSize(1024, 1024), null));
  }

  @Test
  void countsInlineImagesOfKnownSizeExactly() throws IOException {
    String png = Base64.getEncoder().encodeToString(image("png", 1024, 1024));
    ChatRequest r = ChatRequest.builder("openai/gpt-4o")
        .addMessage(Message.user(List.of(ContentPart.text("hello world"), ContentPart.imageBase64("image/png", png))))
        .build();
    TokenCount c = TOKENS.count(r);
    // 3 + "user" 1 + "hello world" 2 + 765 for the image + 3 priming.
    assertEquals(774, c.tokens());
    assertTrue(c.exact());
    // GPT-4o mini bills the same image as 2833 + 4 × 5667 tokens.
    assertEquals(774 - 765 + 2833 + 4 * 5667, TOKENS.count("openai/gpt-4o-mini", r).tokens());

    ChatRequest byUrl = ChatRequest.builder("openai/gpt-4o")
        .addMessage(Message.user(List.of(ContentPart.text("hello world"),
            ContentPart.imageUrl("https://example.com/cat.png"))))
        .build();
    assertEquals(9 + 1445, TOKENS.count(byUrl).tokens());
    assertFalse(TOKENS.count(byUrl).exact(), "an image of unknown size is an estimate");
    ChatRequest low = ChatRequest.builder("openai/gpt-4o")
        .addMessage(Message.user(List.of(ContentPart.imageUrl("https://example.com/cat.png").withDetail("low"))))
        .build();
    assertTrue(TOKENS.count(low).exact(), "low detail costs the same whatever the size");
  }

  @Test
  void otherProvidersGetAnEstimate() {
    ChatRequest r = ChatRequest.builder("anthropic/claude-3-5-haiku-20241022").user("hello world").build();
    TokenCount c = TOKENS.count(r);
    assertEquals(new TokenCount(9, false, "cl100k_base"), c);
  }
}
