package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.errors.NotFoundException;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseRetrieveParams;
import io.pekkollm.http.GatewayKeysTest.Gw;
import io.pekkollm.http.GatewayKeysTest.ManualClock;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two virtual keys over HTTP cannot see each other's streams, sessions, stored responses or spend (always a 404,
 * never another key's data), while the gateway's shared key and master key see everything; and a resumed stream is
 * charged to the key that started it, whoever resumes it.
 */
class GatewayKeyIsolationTest {
  static final String MASTER = GatewayKeysTest.MASTER;
  static final String API_KEY = GatewayKeysTest.API_KEY;
  /** gpt-4o-mini, 1000 input and 1000 output tokens. */
  static final BigDecimal CALL = GatewayKeysTest.CALL;
  static final String USAGE_CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
      + "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,"
      + "\"total_tokens\":2000}}\n\n";

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  final ManualClock clock = new ManualClock();
  Upstream upstream;
  Path dataDir;
  Gw gw;

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
    upstream.always(Reply.json(200, GatewayKeysTest.ANSWER));
    dataDir = Files.createTempDirectory("keys-isolation");
    gw = new Gw(GatewayKeysTest.config(upstream, GatewayKeysTest.h2(dataDir)), clock);
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
    upstream.close();
  }

  HttpResponse<String> send(String method, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.url(path))).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  JsonNode ok(String method, String path, String key, String body) throws Exception {
    HttpResponse<String> r = send(method, path, key, body);
    assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
    return Json.parse(r.body());
  }

  void notFound(String method, String path, String key, String body) throws Exception {
    HttpResponse<String> r = send(method, path, key, body);
    assertEquals(404, r.statusCode(), method + " " + path + ": " + r.body());
    assertTrue(Json.parse(r.body()).path("error").isObject(), r.body());
  }

  JsonNode createKey(String body) throws Exception {
    return ok("POST", "/v1/keys", MASTER, body);
  }

  OpenAIClient openai(String key) {
    return OpenAIOkHttpClient.builder().baseUrl(gw.url("/v1")).apiKey(key).maxRetries(0).build();
  }

  static String streamBody() {
    return "{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  @Test
  void aKeyCannotReadOrResumeAnotherKeysStream() throws Exception {
    String a = createKey("{}").path("key").asText();
    String b = createKey("{}").path("key").asText();
    upstream.reset();
    upstream.always(Reply.sse(Sse.openAi(List.of("one ", "two"), true).getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> r = send("POST", "/v1/chat/completions", a, streamBody());
    assertEquals(200, r.statusCode(), r.body());
    String id = r.headers().firstValue("X-Recovery-Id").orElseThrow();

    assertEquals("one two", ok("GET", "/v1/streams/" + id, a, null).path("text").asText());
    notFound("GET", "/v1/streams/" + id, b, null);
    // The stream is complete: its owner is told so (409), another key only that there is no such stream.
    assertEquals(409, send("POST", "/v1/streams/" + id + "/resume", a, "{\"strategy\":\"exact\"}").statusCode());
    notFound("POST", "/v1/streams/" + id + "/resume", b, "{\"strategy\":\"exact\"}");
    // The gateway's own keys see every stream.
    assertEquals("one two", ok("GET", "/v1/streams/" + id, API_KEY, null).path("text").asText());
    assertEquals("one two", ok("GET", "/v1/streams/" + id, MASTER, null).path("text").asText());

    // A stream started with the shared key has no owner: no virtual key sees it.
    HttpResponse<String> shared = send("POST", "/v1/chat/completions", API_KEY, streamBody());
    String sharedId = shared.headers().firstValue("X-Recovery-Id").orElseThrow();
    notFound("GET", "/v1/streams/" + sharedId, a, null);
    notFound("POST", "/v1/streams/" + sharedId + "/resume", a, "{\"strategy\":\"exact\"}");
    ok("GET", "/v1/streams/" + sharedId, API_KEY, null);
  }

  @Test
  void aKeyCannotSeeUseOrListAnotherKeysSessions() throws Exception {
    String a = createKey("{}").path("key").asText();
    String b = createKey("{}").path("key").asText();
    String id = ok("POST", "/v1/sessions", a, "{\"model\":\"openai/gpt-4o-mini\",\"name\":\"mine\"}").path("id")
        .asText();
    String turn = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    assertEquals("hi", ok("POST", "/v1/sessions/" + id + "/chat", a, turn).at("/choices/0/message/content")
        .asText());

    notFound("GET", "/v1/sessions/" + id, b, null);
    notFound("GET", "/v1/sessions/" + id + "/export", b, null);
    notFound("PATCH", "/v1/sessions/" + id, b, "{\"name\":\"stolen\"}");
    notFound("POST", "/v1/sessions/" + id + "/chat", b, turn);
    notFound("POST", "/v1/sessions/" + id + "/chat/completions", b, turn);
    notFound("DELETE", "/v1/sessions/" + id, b, null);
    assertFalse(ok("GET", "/v1/sessions", b, null).toString().contains(id), "not listed for another key");
    assertEquals(1, upstream.requestCount(), "another key's turns never reached the upstream");

    JsonNode mine = ok("GET", "/v1/sessions/" + id, a, null);
    assertEquals("mine", mine.path("name").asText(), "the refused PATCH changed nothing");
    assertEquals(2, mine.path("messages").size(), "the refused DELETE and turns changed nothing");
    assertTrue(ok("GET", "/v1/sessions", a, null).toString().contains(id));
    assertTrue(ok("GET", "/v1/sessions", API_KEY, null).toString().contains(id), "the shared key lists all");
    // The gateway's own keys see a key's sessions under their stored ids (the key id scopes them).
    String keyId = a.substring(3, 19);
    ok("GET", "/v1/sessions/k" + keyId + "_" + id, MASTER, null);

    // A session the shared key made has no owner: virtual keys do not see it.
    String shared = ok("POST", "/v1/sessions", API_KEY, "{\"model\":\"openai/gpt-4o-mini\"}").path("id").asText();
    notFound("GET", "/v1/sessions/" + shared, a, null);
    assertFalse(ok("GET", "/v1/sessions", a, null).toString().contains(shared));
    // An import belongs to the importing key.
    String file = ok("GET", "/v1/sessions/" + id + "/export", a, null).toString();
    String imported = ok("POST", "/v1/sessions/import?new_id=true", b, file).path("id").asText();
    ok("GET", "/v1/sessions/" + imported, b, null);
    notFound("GET", "/v1/sessions/" + imported, a, null);
    ok("DELETE", "/v1/sessions/" + id, a, null);
  }

  @Test
  void twoKeysUsingTheSameSessionIdHaveTwoSessionsAndNeitherLearnsOfTheOther() throws Exception {
    String a = createKey("{}").path("key").asText();
    String b = createKey("{}").path("key").asText();
    String turn = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    // Both create "s1": no 409 for the second, which would tell it the first exists.
    assertEquals("s1", ok("POST", "/v1/sessions", a, "{\"model\":\"openai/gpt-4o-mini\",\"id\":\"s1\",\"name\":\"of-a\"}")
        .path("id").asText());
    assertEquals("s1", ok("POST", "/v1/sessions", b, "{\"model\":\"openai/gpt-4o-mini\",\"id\":\"s1\",\"name\":\"of-b\"}")
        .path("id").asText());
    // A's own second "s1" is a conflict that names the id as A knows it, not as it is stored.
    HttpResponse<String> again = send("POST", "/v1/sessions", a, "{\"model\":\"openai/gpt-4o-mini\",\"id\":\"s1\"}");
    assertEquals(409, again.statusCode(), again.body());
    assertTrue(again.body().contains("session 's1' already exists"), again.body());
    HttpResponse<String> chatA = send("POST", "/v1/sessions/s1/chat", a, turn);
    assertEquals(200, chatA.statusCode(), chatA.body());
    assertEquals("s1", chatA.headers().firstValue("X-Session-Id").orElse(null));
    ok("POST", "/v1/sessions/s1/chat/completions", b, turn);
    ok("POST", "/v1/sessions/s1/chat", b, turn);
    JsonNode ofA = ok("GET", "/v1/sessions/s1", a, null);
    JsonNode ofB = ok("GET", "/v1/sessions/s1", b, null);
    assertEquals("of-a", ofA.path("name").asText(), ofA.toString());
    assertEquals("of-b", ofB.path("name").asText(), ofB.toString());
    assertEquals("s1", ofA.path("id").asText());
    assertEquals(2, ofA.path("messages").size(), "A's one turn: " + ofA);
    assertEquals(4, ofB.path("messages").size(), "B's two turns: " + ofB);
    assertEquals("s1", ok("GET", "/v1/sessions", a, null).path("data").path(0).path("id").asText());
    assertEquals(1, ok("GET", "/v1/sessions", b, null).path("data").size());
    assertEquals("s1", ok("GET", "/v1/sessions/s1/export", b, null).path("id").asText());
    assertEquals("renamed", ok("PATCH", "/v1/sessions/s1", a, "{\"name\":\"renamed\"}").path("name").asText());
    assertEquals("of-b", ok("GET", "/v1/sessions/s1", b, null).path("name").asText(), "B's is untouched");

    // A deletes its s1: B's stays, and A's is gone for A alone.
    String fileOfA = ok("GET", "/v1/sessions/s1/export", a, null).toString();
    assertTrue(ok("DELETE", "/v1/sessions/s1", a, null).path("deleted").asBoolean());
    notFound("GET", "/v1/sessions/s1", a, null);
    notFound("DELETE", "/v1/sessions/s1", a, null);
    assertEquals("of-b", ok("GET", "/v1/sessions/s1", b, null).path("name").asText());
    // A imports its export again under its id; B's session of that id is no obstacle.
    assertEquals("s1", ok("POST", "/v1/sessions/import", a, fileOfA).path("id").asText());
    assertEquals("renamed", ok("GET", "/v1/sessions/s1", a, null).path("name").asText());
    HttpResponse<String> tooLong = send("POST", "/v1/sessions", a, "{\"model\":\"openai/gpt-4o-mini\",\"id\":\""
        + "x".repeat(47) + "\"}");
    assertEquals(400, tooLong.statusCode(), tooLong.body());
    assertTrue(tooLong.body().contains("1 to 46"), tooLong.body());

    // The shared key keeps plain ids: its s1 is a third session, and a second s1 is still a conflict for it.
    ok("POST", "/v1/sessions", API_KEY, "{\"model\":\"openai/gpt-4o-mini\",\"id\":\"s1\",\"name\":\"shared\"}");
    assertEquals("shared", ok("GET", "/v1/sessions/s1", API_KEY, null).path("name").asText());
    assertEquals(409, send("POST", "/v1/sessions", API_KEY, "{\"model\":\"openai/gpt-4o-mini\",\"id\":\"s1\"}")
        .statusCode());
    assertEquals("of-b", ok("GET", "/v1/sessions/s1", b, null).path("name").asText());
  }

  @Test
  void aKeyCannotReadDeleteOrContinueAnotherKeysStoredResponse() throws Exception {
    String a = createKey("{}").path("key").asText();
    String b = createKey("{}").path("key").asText();
    String id;
    OpenAIClient ca = openai(a);
    OpenAIClient cb = openai(b);
    try {
      Response r = ca.responses().create(ResponseCreateParams.builder().model("openai/gpt-4o-mini").input("hello")
          .store(true).build());
      id = r.id();
      assertEquals(id, ca.responses().retrieve(id).id());
      assertThrows(NotFoundException.class, () -> cb.responses().retrieve(id));
      assertThrows(NotFoundException.class, () -> cb.responses().delete(id));
      NotFoundException cont = assertThrows(NotFoundException.class, () -> cb.responses().create(
          ResponseCreateParams.builder().model("openai/gpt-4o-mini").input("more").previousResponseId(id).build()));
      assertTrue(cont.getMessage().contains(id), cont.getMessage());
      // Still there for its owner after the refused delete, and continuable by it.
      assertEquals(id, ca.responses().retrieve(id, ResponseRetrieveParams.none()).id());
      ca.responses().create(ResponseCreateParams.builder().model("openai/gpt-4o-mini").input("more")
          .previousResponseId(id).putAdditionalBodyProperty("store", JsonValue.from(false)).build());
    } finally {
      ca.close();
      cb.close();
    }
    ok("GET", "/v1/responses/" + id, API_KEY, null);
    ok("GET", "/v1/responses/" + id, MASTER, null);
    assertEquals(2, upstream.requestCount(), "another key's continuation never reached the upstream");
  }

  @Test
  void aKeySeesOnlyItsOwnSpend() throws Exception {
    JsonNode ka = createKey("{\"team\":\"red\"}");
    JsonNode kb = createKey("{\"team\":\"blue\"}");
    String a = ka.path("key").asText();
    String b = kb.path("key").asText();
    String chat = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    ok("POST", "/v1/chat/completions", a, chat);
    ok("POST", "/v1/chat/completions", b, chat);
    ok("POST", "/v1/chat/completions", b, chat);
    waitForTotal(MASTER, "/v1/spend", CALL.multiply(BigDecimal.valueOf(3)));
    JsonNode own = waitForTotal(a, "/v1/spend?group_by=key", CALL);
    assertEquals(1, own.path("data").size(), own.toString());
    assertEquals(ka.path("id").asText(), own.path("data").get(0).path("key").asText());
    assertFalse(own.toString().contains(kb.path("id").asText()), own.toString());
    notFound("GET", "/v1/spend?key=" + kb.path("id").asText(), a, null);
    assertEquals(0, ok("GET", "/v1/spend?team=blue", a, null).path("total_spend").decimalValue().signum(),
        "another team's spend is not this key's");
    waitForTotal(b, "/v1/spend?key=" + kb.path("id").asText(), CALL.multiply(BigDecimal.valueOf(2)));
    // Managing keys stays the master key's.
    assertEquals(403, send("GET", "/v1/keys", a, null).statusCode());
    assertEquals(403, send("GET", "/v1/audit", a, null).statusCode());
  }

  @Test
  void aResumedStreamIsChargedToTheKeyThatStartedItWhoeverResumes() throws Exception {
    JsonNode ka = createKey("{}");
    String a = ka.path("key").asText();
    String b = createKey("{}").path("key").asText();
    String full = Sse.openAi(List.of("one ", "two ", "three"), true);
    int cut = Sse.openAi(List.of("one "), false).getBytes(StandardCharsets.UTF_8).length;
    upstream.reset();
    upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8)).truncatedAfter(cut + 1));
    HttpResponse<String> r = send("POST", "/v1/chat/completions", a, streamBody());
    assertEquals(200, r.statusCode(), r.body());
    String id = r.headers().firstValue("X-Recovery-Id").orElseThrow();
    assertEquals("interrupted", ok("GET", "/v1/streams/" + id, a, null).path("status").asText());
    // The cut stream reported no usage: nothing spent yet.
    assertEquals(0, spend(ka.path("id").asText()).signum());

    notFound("POST", "/v1/streams/" + id + "/resume", b, "{\"strategy\":\"exact\"}");
    // The master key resumes it: the continuation's cost goes to key A, not to the master key or to nobody.
    upstream.enqueue(Reply.sse((Sse.openAi(List.of("two ", "three"), false) + USAGE_CHUNK + "data: [DONE]\n\n")
        .getBytes(StandardCharsets.UTF_8)));
    HttpResponse<String> resumed = send("POST", "/v1/streams/" + id + "/resume", MASTER, "{\"strategy\":\"exact\"}");
    assertEquals(200, resumed.statusCode(), resumed.body());
    assertTrue(resumed.body().contains("[DONE]"), resumed.body());
    waitForKeySpend(ka.path("id").asText(), CALL);
    assertEquals(2, upstream.requestCount());
  }

  BigDecimal spend(String keyId) throws Exception {
    return ok("GET", "/v1/keys/" + keyId, MASTER, null).path("spend").decimalValue();
  }

  void waitForKeySpend(String keyId, BigDecimal expected) throws Exception {
    BigDecimal s = null;
    for (int i = 0; i < 500; i++) {
      s = spend(keyId);
      if (s.compareTo(expected) == 0) {
        return;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("spend " + s + ", expected " + expected);
  }

  JsonNode waitForTotal(String key, String path, BigDecimal total) throws Exception {
    JsonNode r = null;
    for (int i = 0; i < 500; i++) {
      r = ok("GET", path, key, null);
      if (total.compareTo(r.path("total_spend").decimalValue()) == 0) {
        return r;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("spend never reached " + total + ": " + r);
  }
}
