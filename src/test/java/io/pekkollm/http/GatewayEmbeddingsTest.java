package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.Embeddings;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code POST /v1/embeddings} with the official openai-java client, for each embedding provider behind a local
 * upstream speaking that provider's embeddings wire format; batching, base64, pricing and bad input.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayEmbeddingsTest {
  private Upstream upstream;
  private LlmClient llm;
  private OpenAIClient openai;
  private int port;
  private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

  @BeforeAll
  void start() throws Exception {
    upstream = new Upstream();
    Config config = TestConfig.of("pekko-llm.providers {\n"
        + "  openai { base-url = \"" + upstream.url("/v1") + "\", api-key = \"sk-test\", embedding-batch-size = 2 }\n"
        + "  mistral { base-url = \"" + upstream.url("/mistral/v1") + "\", api-key = \"mi-key\" }\n"
        + "  gemini { base-url = \"" + upstream.url("") + "\", api-key = \"g-key\" }\n"
        + "  ollama.base-url = \"" + upstream.url("") + "\"\n"
        + "  cohere { base-url = \"" + upstream.url("") + "\", api-key = \"co-key\" }\n"
        + "  bedrock { base-url = \"" + upstream.url("") + "\", api-key = \"secret\", access-key-id = \"AKID\","
        + " region = us-west-2 }\n"
        + "  anthropic { base-url = \"" + upstream.url("") + "\", api-key = \"a-key\" }\n"
        + "  mock.embedding-batch-size = 3\n"
        + "}\npekko-llm.gateway.access-log = off");
    llm = LlmClient.create(config);
    ServerBinding binding = GatewayServer.start(llm, GatewaySettings.create(config).withPort(0))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    port = binding.localAddress().getPort();
    openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("x").maxRetries(0)
        .build();
  }

  @AfterAll
  void stop() {
    if (openai != null) {
      openai.close();
    }
    if (llm != null) {
      llm.close();
    }
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  private static List<Float> floats(CreateEmbeddingResponse r, int i) {
    return r.data().get(i).embedding();
  }

  private JsonNode body(int i) throws Exception {
    return Json.parse(upstream.requests().get(i).body());
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
            + "/v1/embeddings")).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String openAiAnswer(String model, int tokens, double[]... vectors) {
    StringBuilder sb = new StringBuilder("{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < vectors.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i)
          .append(",\"embedding\":").append(Json.write(Json.MAPPER.valueToTree(vectors[i]))).append('}');
    }
    return sb.append("],\"model\":\"").append(model).append("\",\"usage\":{\"prompt_tokens\":").append(tokens)
        .append(",\"total_tokens\":").append(tokens).append("}}").toString();
  }

  @Test
  void openAiEmbeddingsSplitIntoBatchesAndMergeInOrder() throws Exception {
    upstream.enqueue(Reply.json(200, openAiAnswer("text-embedding-3-small", 4, new double[] {0.1, 0.2},
        new double[] {0.3, 0.4})));
    upstream.enqueue(Reply.json(200, openAiAnswer("text-embedding-3-small", 3, new double[] {0.5, 0.6})));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("openai/text-embedding-3-small").inputOfArrayOfStrings(List.of("one", "two", "three"))
        .dimensions(2).user("u-1").build());
    assertEquals(3, r.data().size());
    assertEquals(List.of(0.1f, 0.2f), floats(r, 0));
    assertEquals(List.of(0.3f, 0.4f), floats(r, 1));
    assertEquals(List.of(0.5f, 0.6f), floats(r, 2));
    assertEquals(2, r.data().get(2).index());
    assertEquals("openai/text-embedding-3-small", r.model());
    assertEquals(7, r.usage().promptTokens());
    assertEquals(2, upstream.requestCount());
    assertEquals("/v1/embeddings", upstream.requests().get(0).path());
    assertEquals("Bearer sk-test", upstream.requests().get(0).headers().get("authorization"));
    JsonNode first = body(0);
    assertEquals("text-embedding-3-small", first.path("model").asText());
    assertEquals("[\"one\",\"two\"]", first.path("input").toString());
    assertEquals(2, first.path("dimensions").asInt());
    assertEquals("u-1", first.path("user").asText());
    assertEquals("float", first.path("encoding_format").asText());
    assertEquals("[\"three\"]", body(1).path("input").toString());
  }

  @Test
  void floatAndBase64AnswersCarryTheSameVectorsAndTheCatalogCost() throws Exception {
    String answer = openAiAnswer("text-embedding-3-small", 1000, new double[] {0.25, -1.5, 3.0});
    upstream.enqueue(Reply.json(200, answer)).enqueue(Reply.json(200, answer));
    HttpResponse<String> asFloat = post("{\"model\":\"openai/text-embedding-3-small\",\"input\":\"hi\","
        + "\"encoding_format\":\"float\"}");
    HttpResponse<String> asBase64 = post("{\"model\":\"openai/text-embedding-3-small\",\"input\":\"hi\","
        + "\"encoding_format\":\"base64\"}");
    assertEquals(200, asFloat.statusCode(), asFloat.body());
    JsonNode f = Json.parse(asFloat.body());
    assertEquals("[0.25,-1.5,3.0]", f.path("data").get(0).path("embedding").toString());
    assertEquals("openai/text-embedding-3-small", asFloat.headers().firstValue("X-Served-Model").orElseThrow());
    // text-embedding-3-small: $0.02 per million input tokens.
    assertEquals(0.00002, f.path("usage").path("cost").asDouble(), 1e-12);
    byte[] raw = Base64.getDecoder().decode(Json.parse(asBase64.body()).path("data").get(0).path("embedding").asText());
    ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(12, raw.length);
    assertArrayEquals(new float[] {0.25f, -1.5f, 3.0f}, new float[] {buf.getFloat(), buf.getFloat(), buf.getFloat()});
  }

  @Test
  void tokenArraysReachAnOpenAiCompatibleHost() throws Exception {
    upstream.enqueue(Reply.json(200, openAiAnswer("mistral-embed", 3, new double[] {1, 0})));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("mistral/mistral-embed").inputOfArrayOfTokenArrays(List.of(List.of(1L, 2L, 3L))).build());
    assertEquals(List.of(1f, 0f), floats(r, 0));
    assertEquals("/mistral/v1/embeddings", upstream.requests().get(0).path());
    assertEquals("[[1,2,3]]", body(0).path("input").toString());
  }

  @Test
  void geminiAnswersThroughBatchEmbedContents() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"embeddings\":[{\"values\":[0.1,0.2]},{\"values\":[0.3,0.4]}]}"));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("gemini/gemini-embedding-001").inputOfArrayOfStrings(List.of("alpha", "beta gamma"))
        .dimensions(2).build());
    assertEquals(List.of(0.3f, 0.4f), floats(r, 1));
    assertEquals("/v1beta/models/gemini-embedding-001:batchEmbedContents", upstream.requests().get(0).path());
    assertEquals("g-key", upstream.requests().get(0).headers().get("x-goog-api-key"));
    JsonNode req = body(0).path("requests");
    assertEquals(2, req.size());
    assertEquals("models/gemini-embedding-001", req.get(0).path("model").asText());
    assertEquals("beta gamma", req.get(1).path("content").path("parts").get(0).path("text").asText());
    assertEquals(2, req.get(0).path("outputDimensionality").asInt());
    // Gemini reports no usage: four characters a token, estimated.
    assertEquals(2 + 3, r.usage().promptTokens());
  }

  @Test
  void ollamaAnswersThroughApiEmbed() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"model\":\"nomic-embed-text\",\"embeddings\":[[0.5,0.5],[0.1,0.9]],"
        + "\"total_duration\":1000,\"prompt_eval_count\":6}"));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("ollama/nomic-embed-text").inputOfArrayOfStrings(List.of("a", "b")).build());
    assertEquals(List.of(0.1f, 0.9f), floats(r, 1));
    assertEquals(6, r.usage().promptTokens());
    assertEquals("/api/embed", upstream.requests().get(0).path());
    assertEquals("[\"a\",\"b\"]", body(0).path("input").toString());
    assertEquals("nomic-embed-text", body(0).path("model").asText());
  }

  @Test
  void cohereAnswersThroughV2EmbedWithInputType() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"id\":\"e1\",\"embeddings\":{\"float\":[[0.7,0.1]]},\"texts\":[\"q\"],"
        + "\"meta\":{\"billed_units\":{\"input_tokens\":2}}}"));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("cohere/embed-english-v3.0").input("q")
        .putAdditionalBodyProperty("input_type", com.openai.core.JsonValue.from("search_query")).build());
    assertEquals(List.of(0.7f, 0.1f), floats(r, 0));
    assertEquals(2, r.usage().promptTokens());
    assertEquals("/v2/embed", upstream.requests().get(0).path());
    assertEquals("Bearer co-key", upstream.requests().get(0).headers().get("authorization"));
    JsonNode sent = body(0);
    assertEquals("[\"q\"]", sent.path("texts").toString());
    assertEquals("search_query", sent.path("input_type").asText());
    assertEquals("[\"float\"]", sent.path("embedding_types").toString());
  }

  @Test
  void bedrockTitanEmbedsOneTextPerSignedInvoke() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"embedding\":[0.1,0.2],\"inputTextTokenCount\":3}"));
    upstream.enqueue(Reply.json(200, "{\"embedding\":[0.3,0.4],\"inputTextTokenCount\":4}"));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("bedrock/amazon.titan-embed-text-v2:0").inputOfArrayOfStrings(List.of("first", "second")).build());
    assertEquals(List.of(0.1f, 0.2f), floats(r, 0));
    assertEquals(List.of(0.3f, 0.4f), floats(r, 1));
    assertEquals(7, r.usage().promptTokens());
    assertEquals(2, upstream.requestCount());
    assertEquals("/model/amazon.titan-embed-text-v2:0/invoke", upstream.requests().get(0).path());
    assertTrue(upstream.requests().get(0).headers().get("authorization").startsWith("AWS4-HMAC-SHA256 "));
    assertEquals("second", body(1).path("inputText").asText());
  }

  @Test
  void bedrockCohereEmbedsTextsInOneInvoke() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"id\":\"x\",\"embeddings\":[[1.0,0.0],[0.0,1.0]],"
        + "\"response_type\":\"embeddings_floats\",\"texts\":[\"a\",\"b\"]}"));
    CreateEmbeddingResponse r = openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("bedrock/cohere.embed-english-v3").inputOfArrayOfStrings(List.of("a", "b")).build());
    assertEquals(List.of(0f, 1f), floats(r, 1));
    assertEquals(1, upstream.requestCount());
    assertEquals("search_document", body(0).path("input_type").asText());
    assertEquals("[\"a\",\"b\"]", body(0).path("texts").toString());
  }

  @Test
  void mockVectorsAreDeterministicAndSplitIntoItsBatches() throws Exception {
    List<String> texts = List.of("red apple", "green apple", "blue car", "fast red car", "apple pie", "sky");
    EmbeddingResponse a = llm.embed("mock/embed", texts).toCompletableFuture().get(10, TimeUnit.SECONDS);
    EmbeddingResponse b = llm.embed("mock/embed", texts).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(6, a.vectors().size());
    assertEquals("mock/embed", a.model());
    for (int i = 0; i < texts.size(); i++) {
      assertArrayEquals(a.vectors().get(i), b.vectors().get(i));
      // Each vector is the one its text gets alone: the batches were merged back in input order.
      float[] alone = llm.embed("mock/embed", List.of(texts.get(i))).toCompletableFuture().get(10, TimeUnit.SECONDS)
          .vectors().get(0);
      assertArrayEquals(alone, a.vectors().get(i));
    }
    assertEquals(1.0, Embeddings.cosineSimilarity(a.vectors().get(0), b.vectors().get(0)), 1e-6);
    List<Embeddings.Match> near = llm.findSimilar("mock/embed", "apple", texts, 3)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(3, near.size());
    assertTrue(List.of(0, 1, 4).contains(near.get(0).index()), near.toString());
    assertTrue(near.get(0).score() >= near.get(1).score() && near.get(1).score() >= near.get(2).score());
    HttpResponse<String> over = post("{\"model\":\"mock/embed\",\"input\":[\"a\",\"b\",\"c\",\"d\"],\"dimensions\":4}");
    assertEquals(200, over.statusCode(), over.body());
    assertEquals(4, Json.parse(over.body()).path("data").size());
    assertEquals(4, Json.parse(over.body()).path("data").get(3).path("embedding").size());
  }

  @Test
  void badInputIsA400InOpenAisShapeNamingTheField() throws Exception {
    String[][] cases = {
        {"{\"model\":\"mock/embed\"}", "input"},
        {"{\"model\":\"mock/embed\",\"input\":[]}", "input"},
        {"{\"model\":\"mock/embed\",\"input\":\"\"}", "input"},
        {"{\"model\":\"mock/embed\",\"input\":[\"a\", 3]}", "input"},
        {"{\"model\":\"mock/embed\",\"input\":{\"text\":\"a\"}}", "input"},
        {"{\"model\":\"mock/embed\",\"input\":\"a\",\"encoding_format\":\"int8\"}", "encoding_format"},
        {"{\"model\":\"mock/embed\",\"input\":\"a\",\"dimensions\":0}", "dimensions"},
        {"{\"input\":\"a\"}", "model"},
        {"{\"model\":\"gemini/gemini-embedding-001\",\"input\":[1,2,3]}", "input"},
        {"{\"model\":\"anthropic/claude-3-5-haiku-20241022\",\"input\":\"a\"}", "model"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = post(c[0]);
      assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
      JsonNode error = Json.parse(r.body()).path("error");
      assertEquals("invalid_request_error", error.path("type").asText(), r.body());
      assertEquals(c[1], error.path("param").asText(), r.body());
      assertFalse(error.path("message").asText().isEmpty());
    }
    assertEquals(0, upstream.requestCount());
    assertThrows(NotFoundException.class, () -> openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("nosuch/model").input("a").build()));
    assertThrows(BadRequestException.class, () -> openai.embeddings().create(EmbeddingCreateParams.builder()
        .model("mock/embed").input("").build()));
    // The server keeps serving.
    assertEquals(200, post("{\"model\":\"mock/embed\",\"input\":\"still here\"}").statusCode());
  }

  @Test
  void anUpstreamErrorKeepsItsStatusInOpenAisShape() throws Exception {
    upstream.enqueue(Reply.json(429, "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\"}}")
        .withHeaders(java.util.Map.of("retry-after", "7")));
    HttpResponse<String> r = post("{\"model\":\"openai/text-embedding-3-small\",\"input\":\"a\"}");
    assertEquals(429, r.statusCode(), r.body());
    assertEquals("7", r.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(Json.parse(r.body()).path("error").path("message").asText().contains("slow down"), r.body());
  }

  @Test
  void libraryRequestsValidateTheirInputs() {
    assertThrows(io.pekkollm.model.LlmException.class, () -> EmbeddingRequest.builder("mock/embed").build());
    assertEquals(0.0, Embeddings.cosineSimilarity(new float[] {0, 0}, new float[] {1, 0}));
    assertEquals(-1.0, Embeddings.cosineSimilarity(new float[] {1, 0}, new float[] {-2, 0}), 1e-9);
    assertThrows(IllegalArgumentException.class, () -> Embeddings.cosineSimilarity(new float[1], new float[2]));
    List<Embeddings.Match> m = Embeddings.findSimilar(new float[] {1, 0},
        List.of(new float[] {0, 1}, new float[] {1, 1}, new float[] {1, 0}), 2);
    assertEquals(List.of(2, 1), m.stream().map(Embeddings.Match::index).toList());
  }
}
