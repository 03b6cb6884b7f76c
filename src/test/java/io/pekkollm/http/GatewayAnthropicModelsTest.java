package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.errors.NotFoundException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.models.models.ModelInfo;
import com.anthropic.models.models.ModelListPage;
import com.anthropic.models.models.ModelListParams;
import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /v1/models} and {@code GET /v1/models/{id}} for Anthropic's clients: with {@code anthropic-version}
 * they answer Anthropic's shapes, which the official anthropic-java client reads and pages through; the key is
 * taken from {@code x-api-key}; errors are Anthropic's; without the header the OpenAI list is unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayAnthropicModelsTest {
  private static final String KEY = "sk-gateway-models-key";
  private GatewayFixture gw;
  private AnthropicClient anthropic;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("pekko-llm.gateway.api-key = \"" + KEY + "\"\n"
        + "pekko-llm.routing.groups.fast { strategy = ordered, models = [\"openai/gpt-4o-mini\", \"mock/echo\"] }");
    anthropic = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + gw.port()).apiKey(KEY).maxRetries(0)
        .build();
  }

  @AfterAll
  void stop() {
    anthropic.close();
    gw.close();
  }

  private List<String> openAiIds() throws Exception {
    HttpResponse<String> r = gw.get("/v1/models", "Authorization", "Bearer " + KEY);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode list = Json.parse(r.body());
    assertEquals("list", list.path("object").asText(), "without anthropic-version: OpenAI's shape");
    List<String> ids = new ArrayList<>();
    list.path("data").forEach(m -> ids.add(m.path("id").asText()));
    return ids;
  }

  @Test
  void theSdkPagesThroughTheSameModelsAsTheOpenAiList() throws Exception {
    List<String> expected = openAiIds();
    assertTrue(expected.size() > 25, "enough models for several pages: " + expected.size());
    ModelListPage first = anthropic.models().list(ModelListParams.builder().limit(10).build());
    assertEquals(10, first.data().size());
    assertTrue(first.hasMore().orElseThrow());
    assertEquals(expected.get(0), first.firstId().orElseThrow());
    List<String> ids = new ArrayList<>();
    for (ModelInfo m : first.autoPager()) {
      m.validate();
      assertEquals(m.id(), m.displayName());
      ids.add(m.id());
    }
    assertEquals(expected, ids);
    assertTrue(ids.contains("fast"), "model groups are listed too");
  }

  @Test
  void retrievesAModelByItsIdAGroupAndABareCatalogId() {
    ModelInfo m = anthropic.models().retrieve("openai/gpt-4o-mini");
    m.validate();
    assertEquals("openai/gpt-4o-mini", m.id());
    assertTrue(m.maxInputTokens().orElseThrow() > 0, "the catalog's context window");
    assertEquals("fast", anthropic.models().retrieve("fast").id());
    assertEquals("openai/gpt-4o-mini", anthropic.models().retrieve("gpt-4o-mini").id());
    assertThrows(NotFoundException.class, () -> anthropic.models().retrieve("no-such-model-anywhere"));
  }

  @Test
  void aWrongKeyIsTheSdksUnauthorizedException() {
    AnthropicClient wrong = AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + gw.port())
        .apiKey("sk-wrong").maxRetries(0).build();
    try {
      assertThrows(UnauthorizedException.class, () -> wrong.models().list());
    } finally {
      wrong.close();
    }
  }

  @Test
  void badPagingIsA400InAnthropicsShapeNamingTheParameter() throws Exception {
    for (String query : List.of("limit=0", "limit=abc", "limit=1001", "after_id=nope")) {
      HttpResponse<String> r = gw.get("/v1/models?" + query, "x-api-key", KEY, "anthropic-version", "2023-06-01");
      assertEquals(400, r.statusCode(), query + ": " + r.body());
      JsonNode body = Json.parse(r.body());
      assertEquals("error", body.path("type").asText(), r.body());
      assertEquals("invalid_request_error", body.at("/error/type").asText(), r.body());
      String param = query.substring(0, query.indexOf('='));
      assertTrue(body.at("/error/message").asText().startsWith(param), r.body());
    }
    HttpResponse<String> last = gw.get("/v1/models?limit=1000", "x-api-key", KEY, "anthropic-version", "2023-06-01");
    assertEquals(200, last.statusCode());
    assertFalse(Json.parse(last.body()).path("has_more").asBoolean());
    String lastId = Json.parse(last.body()).path("last_id").asText();
    HttpResponse<String> before = gw.get("/v1/models?limit=2&before_id=" + lastId, "x-api-key", KEY,
        "anthropic-version", "2023-06-01");
    JsonNode page = Json.parse(before.body());
    assertEquals(2, page.path("data").size(), before.body());
    assertTrue(page.path("has_more").asBoolean());
    List<String> all = openAiIds();
    assertEquals(all.get(all.size() - 2), page.path("last_id").asText());
  }
}
