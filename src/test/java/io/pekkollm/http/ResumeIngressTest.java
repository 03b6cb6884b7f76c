package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Streams started through {@code /v1/messages} and {@code /v1/responses} are cut mid-stream by their (OpenAI-format)
 * upstream and resumed with {@code POST /v1/streams/{id}/resume}: the resume answers in the API the stream was
 * started in, every event of it is read by that API's official SDK (its own event types and accumulator), and
 * the kept text plus the resumed text is exactly the whole answer; also when the gateway restarted in between (the
 * H2 journal in a temp dir), since the format is in the journal.
 */
class ResumeIngressTest {
  private static final List<String> DELTAS = List.of("Grüße ", "aus ", "東京 ", "🌍 ", "und ", "mehr ", "Ende.");
  private static final String WHOLE = String.join("", DELTAS);
  private static final int KEEP = 3;

  private static GatewayFixture gateway(Path dir) {
    return new GatewayFixture("pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n");
  }

  /** The upstream sends the first {@link #KEEP} deltas, then the connection breaks inside the next event. */
  private static void cutUpstream(GatewayFixture gw) {
    String full = Sse.openAi(DELTAS, true);
    int cut = Sse.openAi(DELTAS.subList(0, KEEP), false).getBytes(StandardCharsets.UTF_8).length;
    gw.upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8)).truncatedAfter(cut + 1));
  }

  /** The continuation: the rest of the answer. */
  private static void restUpstream(GatewayFixture gw, String had) {
    gw.upstream.enqueue(Reply.sse(Sse.openAi(List.of(WHOLE.substring(had.length())), true)
        .getBytes(StandardCharsets.UTF_8)));
  }

  private static String lastId(List<Sse.Event> events) {
    String id = null;
    for (Sse.Event e : events) {
      if (e.id() != null) {
        id = e.id();
      }
    }
    return id;
  }

  // ------------------------------------------------------------------ Anthropic Messages

  private static final String MESSAGES_BODY = "{\"model\":\"openai/gpt-test\",\"max_tokens\":500,\"stream\":true,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}]}";

  /** Every event through the SDK's own types and accumulator; the accumulated message. */
  private static Message accumulate(List<Sse.Event> events) throws Exception {
    MessageAccumulator acc = MessageAccumulator.create();
    for (Sse.Event e : events) {
      if ("ping".equals(e.type())) {
        continue; // the SDK's SSE reader drops pings before parsing, as the API documents them
      }
      RawMessageStreamEvent ev = com.anthropic.core.ObjectMappers.jsonMapper().readValue(e.data(),
          RawMessageStreamEvent.class);
      ev.validate();
      assertEquals(e.type(), e.json().path("type").asText(), "event name and type agree: " + e.data());
      acc.accumulate(ev);
    }
    return acc.message();
  }

  private static String text(Message m) {
    StringBuilder sb = new StringBuilder();
    m.content().stream().filter(ContentBlock::isText).forEach(b -> sb.append(b.asText().text()));
    return sb.toString();
  }

  /** The events of an interrupted Messages stream: the text so far, up to the error event that ends it. */
  private static String interruptedMessageText(HttpResponse<String> r) {
    List<Sse.Event> events = Sse.parse(r.body());
    Sse.Event last = events.get(events.size() - 1);
    assertEquals("error", last.type(), r.body());
    StringBuilder sb = new StringBuilder();
    for (Sse.Event e : events) {
      if ("content_block_delta".equals(e.type())) {
        sb.append(e.json().at("/delta/text").asText());
      }
    }
    return sb.toString();
  }

  private static void assertMessagesResume(GatewayFixture gw, String recoveryId, String had, String lastId,
      String messageId) throws Exception {
    restUpstream(gw, had);
    HttpResponse<String> r = gw.post("/v1/streams/" + recoveryId + "/resume", "{\"strategy\":\"exact\"}",
        "Last-Event-ID", lastId);
    assertEquals(200, r.statusCode(), r.body());
    List<Sse.Event> events = Sse.parse(r.body());
    assertEquals("recovery", events.get(0).type());
    JsonNode info = events.get(0).json();
    assertEquals("messages", info.path("format").asText());
    int kept = info.path("kept_chars").asInt();
    List<Sse.Event> rest = events.subList(1, events.size());
    assertEquals("message_start", rest.get(0).type(), r.body());
    assertEquals("message_stop", rest.get(rest.size() - 1).type(), r.body());
    Message resumed = accumulate(rest);
    assertEquals(messageId, resumed.id(), "the resumed message keeps its id");
    assertEquals(StopReason.END_TURN, resumed.stopReason().orElseThrow());
    assertEquals(WHOLE, had.substring(0, had.offsetByCodePoints(0, kept)) + text(resumed));
    JsonNode status = Json.parse(gw.get("/v1/streams/" + recoveryId).body());
    assertEquals("completed", status.path("status").asText());
    assertEquals("messages", status.path("format").asText());
    assertEquals(WHOLE, status.path("text").asText());
  }

  @Test
  void aMessagesStreamResumesAsAnthropicEvents() throws Exception {
    try (GatewayFixture gw = gateway(Files.createTempDirectory("pekko-llm-resume-messages"))) {
      cutUpstream(gw);
      HttpResponse<String> r = gw.post("/v1/messages", MESSAGES_BODY);
      assertEquals(200, r.statusCode(), r.body());
      String recoveryId = r.headers().firstValue("X-Recovery-Id").orElse(null);
      assertNotNull(recoveryId);
      String had = interruptedMessageText(r);
      assertEquals(String.join("", DELTAS.subList(0, KEEP)), had);
      String messageId = Sse.parse(r.body()).get(0).json().at("/message/id").asText();
      JsonNode status = Json.parse(gw.get("/v1/streams/" + recoveryId).body());
      assertEquals("interrupted", status.path("status").asText());
      assertEquals("messages", status.path("format").asText());
      assertMessagesResume(gw, recoveryId, had, lastId(Sse.parse(r.body())), messageId);
    }
  }

  @Test
  void aMessagesStreamResumesAsAnthropicEventsAfterAGatewayRestart() throws Exception {
    Path dir = Files.createTempDirectory("pekko-llm-resume-messages-restart");
    String recoveryId;
    String had;
    String lastId;
    String messageId;
    try (GatewayFixture one = gateway(dir)) {
      cutUpstream(one);
      HttpResponse<String> r = one.post("/v1/messages", MESSAGES_BODY);
      recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
      had = interruptedMessageText(r);
      lastId = lastId(Sse.parse(r.body()));
      messageId = Sse.parse(r.body()).get(0).json().at("/message/id").asText();
    }
    try (GatewayFixture two = gateway(dir)) {
      assertMessagesResume(two, recoveryId, had, lastId, messageId);
    }
  }

  // ------------------------------------------------------------------ Responses

  private static final String RESPONSES_BODY = "{\"model\":\"openai/gpt-test\",\"stream\":true,"
      + "\"instructions\":\"Be brief.\",\"input\":\"tell me\"}";

  private static String text(Response r) {
    StringBuilder sb = new StringBuilder();
    for (ResponseOutputItem item : r.output()) {
      item.message().ifPresent(m -> m.content().forEach(c -> c.outputText().ifPresent(t -> sb.append(t.text()))));
    }
    return sb.toString();
  }

  private static String deltas(List<Sse.Event> events) {
    StringBuilder sb = new StringBuilder();
    for (Sse.Event e : events) {
      if ("response.output_text.delta".equals(e.type())) {
        sb.append(e.json().path("delta").asText());
      }
    }
    return sb.toString();
  }

  private static void assertResponsesResume(GatewayFixture gw, String recoveryId, String had, String lastId,
      String responseId) throws Exception {
    restUpstream(gw, had);
    HttpResponse<String> r = gw.post("/v1/streams/" + recoveryId + "/resume", "{\"strategy\":\"exact\"}",
        "Last-Event-ID", lastId);
    assertEquals(200, r.statusCode(), r.body());
    List<Sse.Event> events = Sse.parse(r.body());
    assertEquals("recovery", events.get(0).type());
    JsonNode info = events.get(0).json();
    assertEquals("responses", info.path("format").asText());
    int kept = info.path("kept_chars").asInt();
    List<Sse.Event> rest = events.subList(1, events.size());
    assertEquals("response.created", rest.get(0).type(), r.body());
    assertEquals("response.completed", rest.get(rest.size() - 1).type(), r.body());
    ResponseAccumulator acc = ResponseAccumulator.create();
    for (int i = 0; i < rest.size(); i++) {
      Sse.Event e = rest.get(i);
      ResponseStreamEvent ev = com.openai.core.ObjectMappers.jsonMapper().readValue(e.data(),
          ResponseStreamEvent.class);
      ev.validate();
      assertEquals(e.type(), e.json().path("type").asText());
      assertEquals(i, e.json().path("sequence_number").asInt(), "sequence numbers from 0: " + e.data());
      acc.accumulate(ev);
    }
    Response done = acc.response();
    assertEquals(responseId, done.id(), "the resumed response keeps its id");
    assertEquals(ResponseStatus.COMPLETED, done.status().orElseThrow());
    String keptText = had.substring(0, had.offsetByCodePoints(0, kept));
    assertEquals(WHOLE, keptText + deltas(rest), "the kept text and the resumed deltas are the whole answer");
    assertEquals(WHOLE, text(done), "response.completed holds the whole answer");
    // The stored response is the whole answer too, under the id the client saw first.
    Response stored = com.openai.core.ObjectMappers.jsonMapper().readValue(
        gw.get("/v1/responses/" + responseId).body(), Response.class);
    assertEquals(WHOLE, text(stored));
    assertEquals("Be brief.", stored.instructions().orElseThrow().asString());
  }

  @Test
  void aResponsesStreamResumesAsResponsesEvents() throws Exception {
    try (GatewayFixture gw = gateway(Files.createTempDirectory("pekko-llm-resume-responses"))) {
      cutUpstream(gw);
      HttpResponse<String> r = gw.post("/v1/responses", RESPONSES_BODY);
      assertEquals(200, r.statusCode(), r.body());
      String recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
      List<Sse.Event> events = Sse.parse(r.body());
      assertEquals("response.failed", events.get(events.size() - 1).type(), r.body());
      String had = deltas(events);
      assertEquals(String.join("", DELTAS.subList(0, KEEP)), had);
      String responseId = events.get(0).json().at("/response/id").asText();
      assertEquals("responses", Json.parse(gw.get("/v1/streams/" + recoveryId).body()).path("format").asText());
      assertResponsesResume(gw, recoveryId, had, lastId(events), responseId);
    }
  }

  @Test
  void aResponsesStreamResumesAsResponsesEventsAfterAGatewayRestart() throws Exception {
    Path dir = Files.createTempDirectory("pekko-llm-resume-responses-restart");
    String recoveryId;
    String had;
    String lastId;
    String responseId;
    try (GatewayFixture one = gateway(dir)) {
      cutUpstream(one);
      HttpResponse<String> r = one.post("/v1/responses", RESPONSES_BODY);
      recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
      List<Sse.Event> events = Sse.parse(r.body());
      had = deltas(events);
      lastId = lastId(events);
      responseId = events.get(0).json().at("/response/id").asText();
    }
    try (GatewayFixture two = gateway(dir)) {
      assertResponsesResume(two, recoveryId, had, lastId, responseId);
    }
  }

  @Test
  void aChatCompletionsStreamStillResumesAsChatChunks() throws Exception {
    try (GatewayFixture gw = gateway(Files.createTempDirectory("pekko-llm-resume-chat"))) {
      cutUpstream(gw);
      HttpResponse<String> r = gw.post("/v1/chat/completions", "{\"model\":\"openai/gpt-test\",\"stream\":true,"
          + "\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}]}");
      String recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
      StringBuilder had = new StringBuilder();
      String lastId = null;
      for (Sse.Event e : Sse.parse(r.body())) {
        if (e.json().has("choices") && !e.content().isEmpty()) {
          had.append(e.content());
          lastId = e.id();
        }
      }
      restUpstream(gw, had.toString());
      HttpResponse<String> resumed = gw.post("/v1/streams/" + recoveryId + "/resume", "{}", "Last-Event-ID", lastId);
      assertEquals("chat.completions", Sse.parse(resumed.body()).get(0).json().path("format").asText());
      assertTrue(resumed.body().endsWith("data: [DONE]\n\n"), resumed.body());
      assertEquals(WHOLE, Sse.joinResumed(had.toString(), lastId, resumed.body()));
    }
  }
}
