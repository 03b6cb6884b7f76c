package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.pekkollm.testkit.Sse;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Sessions through the gateway: create, chat (JSON and SSE, also with openai-java), list, export, import, delete. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewaySessionsTest {
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return gw.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.parse(r.body());
  }

  private String create(String body) throws Exception {
    HttpResponse<String> r = gw.post("/v1/sessions", body);
    assertEquals(200, r.statusCode(), r.body());
    return json(r).get("id").asText();
  }

  private static List<String> roles(JsonNode session) {
    List<String> out = new ArrayList<>();
    session.get("messages").forEach(m -> out.add(m.get("role").asText()));
    return out;
  }

  @Test
  void chatWithinASessionKeepsTheHistoryAcrossJsonAndStreamedTurns() throws Exception {
    String id = create("{\"model\":\"mock/echo\",\"name\":\"gw\",\"system\":\"Be kind.\",\"metadata\":{\"a\":\"1\"}}");
    HttpResponse<String> first = gw.post("/v1/sessions/" + id + "/chat",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"first question\"}]}");
    assertEquals(200, first.statusCode(), first.body());
    assertEquals("first question", json(first).at("/choices/0/message/content").asText());
    assertEquals(id, first.headers().firstValue("X-Session-Id").orElseThrow());

    HttpResponse<String> streamed = gw.post("/v1/sessions/" + id + "/chat",
        "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"streamed second\"}]}");
    assertEquals(200, streamed.statusCode(), streamed.body());
    assertTrue(streamed.headers().firstValue("X-Recovery-Id").isPresent());
    StringBuilder text = new StringBuilder();
    List<Sse.Event> events = Sse.parse(streamed.body());
    for (Sse.Event e : events.subList(0, events.size() - 1)) {
      text.append(e.content());
    }
    assertEquals("[DONE]", events.get(events.size() - 1).data());
    assertEquals("streamed second", text.toString());

    JsonNode session = json(gw.get("/v1/sessions/" + id));
    assertEquals(List.of("system", "user", "assistant", "user", "assistant"), roles(session));
    assertEquals("streamed second", session.at("/messages/4/content").asText());
    assertEquals("mock/echo", session.at("/messages/4/model").asText());
    assertTrue(session.at("/usage/total_tokens").asInt() > 0);
    assertEquals("1", session.at("/metadata/a").asText());
    assertTrue(session.at("/messages/1/created_at").asText().endsWith("Z"));
  }

  @Test
  void theOfficialOpenAiClientChatsInASessionThroughItsBaseUrl() throws Exception {
    String id = create("{\"model\":\"mock/echo\"}");
    OpenAIClient openai = OpenAIOkHttpClient.builder().baseUrl(gw.baseUrl() + "/sessions/" + id).apiKey("unused")
        .maxRetries(0).build();
    try {
      ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder().model("session")
          .addUserMessage("hello from openai-java").build());
      assertEquals("hello from openai-java", c.choices().get(0).message().content().orElseThrow());
      StringBuilder streamed = new StringBuilder();
      try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(
          ChatCompletionCreateParams.builder().model("session").addUserMessage("and streaming").build())) {
        s.stream().forEach(ch -> ch.choices().forEach(choice -> choice.delta().content().ifPresent(streamed::append)));
      }
      assertEquals("and streaming", streamed.toString());
    } finally {
      openai.close();
    }
    assertEquals(List.of("user", "assistant", "user", "assistant"), roles(json(gw.get("/v1/sessions/" + id))));
  }

  @Test
  void listExportImportAndDelete() throws Exception {
    String id = create("{\"model\":\"mock/echo\",\"name\":\"exported\",\"context_strategy\":\"smart\"}");
    gw.post("/v1/sessions/" + id + "/chat", "{\"messages\":[{\"role\":\"user\",\"content\":\"keep me\"}]}");

    JsonNode list = json(gw.get("/v1/sessions?limit=1000"));
    assertEquals("list", list.get("object").asText());
    boolean listed = false;
    for (JsonNode s : list.get("data")) {
      listed |= s.get("id").asText().equals(id) && s.get("name").asText().equals("exported");
    }
    assertTrue(listed, list.toString());

    HttpResponse<String> export = gw.get("/v1/sessions/" + id + "/export");
    assertEquals(200, export.statusCode());
    assertTrue(export.headers().firstValue("Content-Disposition").orElseThrow().contains("session-" + id + ".json"));

    HttpResponse<String> conflict = gw.post("/v1/sessions/import", export.body());
    assertEquals(409, conflict.statusCode(), conflict.body());
    HttpResponse<String> imported = gw.post("/v1/sessions/import?new_id=true", export.body());
    assertEquals(200, imported.statusCode(), imported.body());
    JsonNode copy = json(imported);
    JsonNode original = json(export);
    assertFalse(copy.get("id").asText().equals(id));
    assertEquals(original.get("messages"), copy.get("messages"));
    assertEquals("smart", copy.get("context_strategy").asText());

    HttpResponse<String> malformed = gw.post("/v1/sessions/import",
        "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\"}]}");
    assertEquals(400, malformed.statusCode());
    assertEquals("messages[0].content", json(malformed).at("/error/param").asText());
    assertTrue(json(malformed).at("/error/message").asText().startsWith("invalid session file"));

    HttpResponse<String> deleted = send("DELETE", "/v1/sessions/" + id, null);
    assertEquals(200, deleted.statusCode());
    assertTrue(json(deleted).get("deleted").asBoolean());
    assertEquals(404, gw.get("/v1/sessions/" + id).statusCode());
    assertEquals(404, send("DELETE", "/v1/sessions/" + id, null).statusCode());
    assertEquals(404, gw.post("/v1/sessions/" + id + "/chat",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"gone?\"}]}").statusCode());
  }

  @Test
  void updatesAndBadInputAreAnsweredWithClearErrors() throws Exception {
    String id = create("{\"model\":\"mock/echo\"}");
    HttpResponse<String> patched = send("PATCH", "/v1/sessions/" + id,
        "{\"name\":\"renamed\",\"model\":\"openai/gpt-4o-mini\",\"context_strategy\":\"none\"}");
    assertEquals(200, patched.statusCode(), patched.body());
    assertEquals("renamed", json(patched).get("name").asText());
    assertEquals("openai/gpt-4o-mini", json(patched).get("model").asText());
    assertTrue(json(patched).get("context_strategy").isNull());

    assertEquals(400, gw.post("/v1/sessions", "{\"name\":\"no model\"}").statusCode());
    assertEquals(404, gw.post("/v1/sessions", "{\"model\":\"nosuch/model\"}").statusCode());
    assertEquals(400, gw.post("/v1/sessions", "{\"model\":\"mock/echo\",\"context_strategy\":\"magic\"}").statusCode());
    assertEquals(400, gw.post("/v1/sessions", "{not json").statusCode());
    assertEquals(409, gw.post("/v1/sessions", "{\"model\":\"mock/echo\",\"id\":\"" + id + "\"}").statusCode());
    HttpResponse<String> history = gw.post("/v1/sessions/" + id + "/chat",
        "{\"messages\":[{\"role\":\"assistant\",\"content\":\"I said\"}]}");
    assertEquals(400, history.statusCode());
    assertEquals("messages[0].role", json(history).at("/error/param").asText());
    assertEquals(400, gw.get("/v1/sessions?limit=0").statusCode());
  }
}
