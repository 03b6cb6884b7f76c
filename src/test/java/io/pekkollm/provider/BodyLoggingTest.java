package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code pekko-llm.logging.bodies}: upstream exchanges logged, redacted, only as much as the mode says. */
class BodyLoggingTest {
  private static final String OPENAI_KEY = "sk-test-key-bodylog-0001";
  private static final String ANTHROPIC_KEY = "sk-ant-test-bodylog-0002";
  private static final String GEMINI_KEY = "AIzaSyA1234567890bodylogabcdefghijk";

  private final Logger bodies = (Logger) LoggerFactory.getLogger("io.pekkollm.bodies");
  private final ListAppender<ILoggingEvent> seen = new ListAppender<>();

  @BeforeEach
  void attach() {
    seen.start();
    bodies.addAppender(seen);
  }

  @AfterEach
  void detach() {
    bodies.detachAppender(seen);
  }

  private List<String> lines() {
    return seen.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  private static String providers(Upstream up) {
    return "pekko-llm.providers.openai { base-url = \"" + up.url("/v1") + "\", api-key = \"" + OPENAI_KEY + "\" }\n"
        + "pekko-llm.providers.anthropic { base-url = \"" + up.url("") + "\", api-key = \"" + ANTHROPIC_KEY + "\" }\n"
        + "pekko-llm.providers.gemini { base-url = \"" + up.url("") + "\", api-key = \"" + GEMINI_KEY + "\" }\n";
  }

  private static String chat(LlmClient client, String model, String text) throws Exception {
    return client.chat(ChatRequest.builder(model).user(text).build()).toCompletableFuture()
        .handle((r, e) -> e == null ? r.text() : null).get(10, TimeUnit.SECONDS);
  }

  @Test
  void allLogsEveryRequestAndResponseWithCredentialHeadersMaskedForEachProviderShape() throws Exception {
    try (Upstream up = new Upstream()) {
      up.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"))
          .enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"))
          .enqueue(Reply.fixtureJson(400, "gemini/error-400-api-key-invalid.json"));
      try (LlmClient client = LlmClient.create(TestConfig.of(providers(up) + "pekko-llm.logging.bodies = all"))) {
        chat(client, "openai/gpt-4o-mini", "hello openai");
        chat(client, "anthropic/claude-3-5-haiku-20241022", "hello anthropic");
        chat(client, "gemini/gemini-1.5-flash", "hello gemini");
      }
      List<String> lines = lines();
      assertEquals(6, lines.size(), String.join("\n====\n", lines));
      assertTrue(lines.get(0).contains("upstream request: POST " + up.url("/v1/chat/completions")), lines.get(0));
      assertTrue(lines.get(0).contains("hello openai"), lines.get(0));
      assertTrue(lines.get(0).contains("\nContent-Type: application/json"), lines.get(0));
      assertTrue(lines.get(0).matches("(?s).*\\n[Aa]uthorization: \\[REDACTED].*"), lines.get(0));
      assertTrue(lines.get(1).contains("upstream response: 200"), lines.get(1));
      assertTrue(lines.get(2).matches("(?s).*\\nx-api-key: \\[REDACTED].*"), lines.get(2));
      assertTrue(lines.get(2).contains("anthropic-version: "), "other headers stay readable: " + lines.get(2));
      assertTrue(lines.get(4).matches("(?s).*\\nx-goog-api-key: \\[REDACTED].*"), lines.get(4));
      assertTrue(lines.get(5).contains("upstream response: 400"), lines.get(5));
      for (String line : lines) {
        for (String key : new String[] {OPENAI_KEY, ANTHROPIC_KEY, GEMINI_KEY}) {
          assertFalse(line.contains(key), key + " logged: " + line);
        }
      }
    }
  }

  @Test
  void aStreamedResponseIsLoggedWhenItEnds() throws Exception {
    try (Upstream up = new Upstream()) {
      up.enqueue(Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"));
      try (LlmClient client = LlmClient.create(TestConfig.of(providers(up) + "pekko-llm.logging.bodies = all"))) {
        client.stream(ChatRequest.builder("openai/gpt-4o").user("stream me").build())
            .runWith(Sink.ignore(), client.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      List<String> lines = lines();
      assertEquals(2, lines.size(), String.join("\n====\n", lines));
      assertTrue(lines.get(0).contains("\"stream\":true"), lines.get(0));
      assertTrue(lines.get(1).startsWith("openai upstream streamed response ("), lines.get(1));
      assertTrue(lines.get(1).contains("data: [DONE]"), lines.get(1));
    }
  }

  @Test
  void errorsLogsOnlyFailedExchangesWithTheirRequestAndOffLogsNothing() throws Exception {
    try (Upstream up = new Upstream()) {
      up.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"))
          .enqueue(Reply.fixtureJson(500, "openai/error-500-server-error.json"));
      try (LlmClient client = LlmClient.create(TestConfig.of(providers(up) + "pekko-llm.logging.bodies = errors"))) {
        chat(client, "openai/gpt-4o-mini", "this one works");
        chat(client, "openai/gpt-4o-mini", "this one fails");
      }
      List<String> lines = lines();
      assertEquals(1, lines.size(), String.join("\n====\n", lines));
      assertTrue(lines.get(0).contains("answered with an error"), lines.get(0));
      assertTrue(lines.get(0).contains("this one fails"), "the request is logged beside its error: " + lines.get(0));
      assertTrue(lines.get(0).contains("--- response ---\n500"), lines.get(0));
      assertFalse(lines.get(0).contains(OPENAI_KEY));

      seen.list.clear();
      up.enqueue(Reply.fixtureJson(500, "openai/error-500-server-error.json"));
      try (LlmClient client = LlmClient.create(TestConfig.of(providers(up)))) {
        chat(client, "openai/gpt-4o-mini", "off by default");
      }
      assertEquals(List.of(), lines());
    }
  }

  @Test
  void piiMaskingAndConfiguredPatternsApplyToLoggedBodies() throws Exception {
    try (Upstream up = new Upstream()) {
      up.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
      try (LlmClient client = LlmClient.create(TestConfig.of(providers(up) + "pekko-llm.logging { bodies = all, "
          + "mask-pii = on, redact-patterns = [\"acct-[0-9]{6}\"], max-body-chars = 400 }"))) {
        chat(client, "openai/gpt-4o-mini", "I am jane@example.com, account acct-123456, card 4111111111111111");
      }
      String request = lines().get(0);
      assertTrue(request.contains("I am [EMAIL], account [REDACTED], card [CARD]"), request);
      Function<String, Boolean> leaks = l -> l.contains("jane@example.com") || l.contains("acct-123456");
      assertFalse(lines().stream().anyMatch(leaks::apply));
    }
  }

  @Test
  void aBadModeIsAConfigurationErrorNamingTheKey() {
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> LlmClient.create(TestConfig.of("pekko-llm.logging.bodies = everything")).close());
    assertTrue(e.getMessage().contains("pekko-llm.logging.bodies must be off, errors or all"), e.getMessage());
  }
}
