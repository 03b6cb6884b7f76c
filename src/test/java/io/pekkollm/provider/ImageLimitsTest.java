package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.Support;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Each provider's documented image limits (reference.conf) are checked before anything is sent: a breach fails
 * with a clear, typed error and the upstream gets no request; a model group moves on to a member whose provider
 * takes the images.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImageLimitsTest {
  private Upstream upstream;
  private LlmClient llm;

  @BeforeAll
  void start() {
    upstream = new Upstream();
    llm = LlmClient.create(TestConfig.threeProviders(upstream,
        "pekko-llm.providers.bedrock { base-url = \"" + upstream.url("") + "\", api-key = \"secret\", "
            + "access-key-id = \"AKIDEXAMPLE\", region = us-east-1 }\n"
            + "pekko-llm.routing.groups.vision = [\"bedrock/anthropic.claude-3-haiku-20240307-v1:0\", "
            + "\"openai/gpt-4o-mini\"]"));
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

  /** A PNG of {@code size} bytes (a real signature, then padding: only its size matters here). */
  private static ContentPart.Image pngOf(int size) {
    byte[] b = new byte[size];
    System.arraycopy(ImageWireContractTest.PNG, 0, b, 0, ImageWireContractTest.PNG.length);
    return ContentPart.image(b);
  }

  private LlmException refused(ChatRequest request) {
    var e = assertThrows(ExecutionException.class, () -> llm.chat(request).toCompletableFuture()
        .get(20, TimeUnit.SECONDS));
    return (LlmException) e.getCause();
  }

  private static ChatRequest withImages(String model, ContentPart... images) {
    List<ContentPart> parts = new ArrayList<>(List.of(ContentPart.text("Describe")));
    parts.addAll(Arrays.asList(images));
    return ChatRequest.builder(model).addMessage(Message.user(parts)).build();
  }

  @Test
  void anImageOverAnthropics5MbIsRefusedBeforeAnyUpstreamCall() {
    LlmException e = refused(withImages("anthropic/claude-haiku-4-5", pngOf(5 * 1024 * 1024 + 1)));
    assertEquals(ErrorKind.REQUEST_TOO_LARGE, e.kind());
    assertEquals(413, e.kind().httpStatus());
    assertEquals("image 1 (messages[0]) is 5242881 bytes; provider 'anthropic' accepts images of at most 5242880 "
        + "bytes (pekko-llm.providers.anthropic.images.max-bytes)", e.getMessage());
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void anImageOfExactlyTheLimitIsSent() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    llm.chat(withImages("anthropic/claude-haiku-4-5", pngOf(5 * 1024 * 1024))).toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    assertEquals(1, upstream.requestCount());
  }

  @Test
  void moreImagesThanBedrockTakesAreAnInvalidRequest() {
    ContentPart.Image[] images = new ContentPart.Image[21];
    Arrays.fill(images, ContentPart.imageUrl("s3://bucket/a.png"));
    LlmException e = refused(withImages("bedrock/anthropic.claude-3-haiku-20240307-v1:0", images));
    assertEquals(ErrorKind.INVALID_REQUEST, e.kind());
    assertTrue(e.getMessage().contains("holds 21 images; provider 'bedrock' accepts at most 20"), e.getMessage());
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void geminiCountsTheInlineBytesOfAllImages() {
    ContentPart.Image eightMb = pngOf(8 * 1024 * 1024);
    LlmException e = refused(withImages("gemini/gemini-2.5-flash", eightMb, eightMb, eightMb));
    assertEquals(ErrorKind.REQUEST_TOO_LARGE, e.kind());
    assertTrue(e.getMessage().contains("images are 25165824 bytes in all; provider 'gemini' accepts at most "
        + "20971520"), e.getMessage());
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void aGroupSkipsAMemberWhoseProviderRefusesTheImage() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    ChatResponse r = llm.chat(withImages("vision", pngOf(4 * 1024 * 1024))).toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    assertEquals("openai/gpt-4o-mini", r.model());
    assertEquals(1, upstream.requestCount());
    assertEquals("/v1/chat/completions", upstream.requests().get(0).path());
  }

  @Test
  void aGroupNoMemberOfWhichTakesTheImageFailsWithTheFirstRefusal() {
    LlmException e = refused(withImages("vision", pngOf(21 * 1024 * 1024)));
    assertEquals(ErrorKind.REQUEST_TOO_LARGE, e.kind());
    assertTrue(e.getMessage().contains("provider 'bedrock' accepts images of at most 3932160"), e.getMessage());
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void supportsVisionComesFromTheCatalog() {
    assertEquals(Support.SUPPORTED, llm.supportsVision("anthropic/claude-haiku-4-5"));
    assertEquals(Support.SUPPORTED, llm.supportsVision("openai/gpt-4o-mini"));
    assertEquals(Support.UNSUPPORTED, llm.supportsVision("openai/gpt-3.5-turbo"));
    assertEquals(Support.UNKNOWN, llm.supportsVision("openai/no-such-model"));
  }
}
