package docs.javadsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.Support;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.provider.mock.MockProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Images" examples, using only public types. */
class ImagesExampleTest {
  private static final byte[] PNG = Base64.getDecoder().decode(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

  private static LlmClient client(MockProvider provider, Path dir, String extra) {
    var config = com.typesafe.config.ConfigFactory.parseString("pekko-llm.recovery.data-dir = \""
        + dir.toString().replace('\\', '/') + "\"\n" + extra)
        .withFallback(io.pekkollm.api.LlmConfig.load());
    return LlmClient.builder().config(config).provider(provider).build();
  }

  @Test
  void imagesFromAFileAndALink(@TempDir Path dir) throws Exception {
    Path photo = Files.write(dir.resolve("photo"), PNG);   // no extension needed: the bytes say it is a PNG
    MockProvider model = MockProvider.builder("vision").reply("A single pixel.").build();
    try (LlmClient llm = client(model, dir, "")) {
      ContentPart.Image image = ContentPart.image(photo);
      assertEquals("image/png", image.mediaType());
      ChatRequest request = ChatRequest.builder("vision/any").addMessage(Message.user(List.of(
          ContentPart.text("What is in these?"), image,
          ContentPart.imageUrl("https://example.com/cat.jpg").withDetail("low")))).build();
      assertEquals("A single pixel.", llm.chat(request).toCompletableFuture().get(10, TimeUnit.SECONDS).text());
      assertEquals(Support.SUPPORTED, llm.supportsVision("anthropic/claude-haiku-4-5"));
    }
  }

  @Test
  void anImageOverTheProvidersLimitIsRefusedBeforeSending(@TempDir Path dir) throws Exception {
    MockProvider model = MockProvider.builder("vision").reply("unused").build();
    try (LlmClient llm = client(model, dir, "pekko-llm.providers.vision.images.max-bytes = 64")) {
      byte[] big = new byte[100];
      System.arraycopy(PNG, 0, big, 0, PNG.length);
      ChatRequest request = ChatRequest.builder("vision/any").addMessage(Message.user(List.of(
          ContentPart.text("What is it?"), ContentPart.image(big)))).build();
      var e = assertThrows(ExecutionException.class, () -> llm.chat(request).toCompletableFuture()
          .get(10, TimeUnit.SECONDS));
      assertEquals(ErrorKind.REQUEST_TOO_LARGE, ((LlmException) e.getCause()).kind());
      assertEquals(0, model.requests().size());
    }
  }
}
