package io.pekkollm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.keys.CallerIdentity;
import io.pekkollm.keys.KeyException;
import io.pekkollm.keys.KeyService;
import io.pekkollm.keys.VirtualKey;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Futures;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java API of virtual keys for an embedding host: keys managed from {@link LlmClient#keys()}, and calls made
 * {@link LlmClient#as} a {@link CallerIdentity}, so the host's own users get model lists and budgets without any
 * HTTP key. The upstream reports 1000 input and 1000 output tokens of gpt-4o-mini: $0.00075 a call.
 */
class CallerIdentityTest {
  static final BigDecimal CALL = new BigDecimal("0.00075");
  static final String ANSWER = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";
  static final String USAGE_CHUNK = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
      + "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,"
      + "\"total_tokens\":2000}}\n\n";

  Upstream upstream;
  LlmClient client;

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
    Path dir = Files.createTempDirectory("caller-identity");
    client = LlmClient.builder().config(TestConfig.openAiCompatible("openai", upstream,
        "pekko-llm.recovery.data-dir = \""
            + dir.toString().replace("\\", "/") + "\"\n")).build();
  }

  @AfterEach
  void stop() {
    client.close();
    upstream.close();
  }

  static ChatRequest ask(String model) {
    return ChatRequest.builder(model).user("hello").build();
  }

  <T> T await(java.util.concurrent.CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Throwable failure(java.util.concurrent.CompletionStage<?> s) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> s.toCompletableFuture().get(30,
        TimeUnit.SECONDS));
    return Futures.cause(e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause());
  }

  BigDecimal waitForSpend(VirtualKey key, BigDecimal expected) throws Exception {
    BigDecimal s = null;
    for (int i = 0; i < 500; i++) {
      s = await(client.keys().spend(key)).total();
      if (s.compareTo(expected) == 0) {
        return s;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("spend " + s + ", expected " + expected);
  }

  @Test
  void aHostsUserGetsTheModelListAndBudgetOfItsKeyWithoutAnHttpKey() throws Exception {
    upstream.always(Reply.json(200, ANSWER));
    KeyService keys = client.keys();
    KeyService.Created created = await(keys.create(Json.parse("{\"name\":\"user-42\",\"team\":\"tenant-a\","
        + "\"models\":[\"openai/gpt-4o-mini\"],\"max_budget\":0.0015}"), "host-service"));
    VirtualKey key = created.key();
    IdentifiedClient user = client.as(CallerIdentity.ofKey(key.id()));

    assertEquals("hi", await(user.chat(ask("openai/gpt-4o-mini"))).text());
    Throwable denied = failure(user.chat(ask("openai/gpt-4o")));
    KeyException ke = assertInstanceOf(KeyException.class, denied);
    assertEquals(ErrorKind.PERMISSION, ke.kind());
    assertTrue(ke.getMessage().contains("openai/gpt-4o"), ke.getMessage());
    waitForSpend(key, CALL);
    assertEquals("hi", await(user.chat(ask("openai/gpt-4o-mini"))).text());
    waitForSpend(key, CALL.multiply(BigDecimal.valueOf(2)));
    KeyException over = assertInstanceOf(KeyException.class, failure(user.chat(ask("openai/gpt-4o-mini"))));
    assertEquals("budget_exceeded", over.errorCode());
    assertEquals(2, upstream.requestCount(), "refused calls never reach the upstream");
    // The same client without an identity has no limits.
    await(client.chat(ask("openai/gpt-4o")));
    // Management from Java is audited like the HTTP API, with the host as the actor.
    assertEquals("host-service", await(keys.audit(0, 10)).get(0).actor());
  }

  @Test
  void streamsAreChargedWhenTheyEndAndBelongToTheKey() throws Exception {
    upstream.always(Reply.sse((Sse.openAi(List.of("one ", "two"), false) + USAGE_CHUNK + "data: [DONE]\n\n")
        .getBytes(StandardCharsets.UTF_8)));
    VirtualKey key = await(client.keys().create(Json.parse("{}"), "host-service")).key();
    List<ChatChunk> chunks = await(client.as(CallerIdentity.ofKey(key.id())).stream(ask("openai/gpt-4o-mini"))
        .runWith(Sink.seq(), client.system()));
    assertTrue(chunks.stream().anyMatch(c -> "two".equals(c.textDelta())), chunks.toString());
    // The stream completed only once its charge was written: nothing to wait for, nothing unwritten.
    KeyService.KeySpend spend = await(client.keys().spend(key));
    assertEquals(0, CALL.compareTo(spend.total()), spend.toString());
    assertEquals(0, spend.unwritten(), spend.toString());
  }

  /**
   * {@code spend-durability = background}: a call's end does not wait for its charge's write, yet the charges are
   * written (a fresh client on the same journal reads them back) and the budget holds as with per-call writes.
   */
  @Test
  void inTheBackgroundModeChargesAreStillWrittenAndTheBudgetHolds() throws Exception {
    client.close();
    Path dir = Files.createTempDirectory("caller-identity-bg");
    String conf = "pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n"
        + "pekko-llm.keys.spend-durability = background\n";
    client = LlmClient.builder().config(TestConfig.openAiCompatible("openai", upstream, conf)).build();
    upstream.always(Reply.json(200, ANSWER));
    VirtualKey key = await(client.keys().create(Json.parse("{\"max_budget\":0.0015}"), "host-service")).key();
    IdentifiedClient user = client.as(CallerIdentity.ofKey(key.id()));
    assertEquals("hi", await(user.chat(ask("openai/gpt-4o-mini"))).text());
    waitForSpend(key, CALL);
    assertEquals("hi", await(user.chat(ask("openai/gpt-4o-mini"))).text());
    waitForSpend(key, CALL.multiply(BigDecimal.valueOf(2)));
    KeyException over = assertInstanceOf(KeyException.class, failure(user.chat(ask("openai/gpt-4o-mini"))));
    assertEquals("budget_exceeded", over.errorCode());
    KeyService.KeySpend spend = null;
    for (int i = 0; i < 500 && (spend = await(client.keys().spend(key))).unwritten() > 0; i++) {
      Thread.sleep(5);
    }
    assertEquals(0, spend.unwritten(), "written without anyone waiting: " + spend);
    client.close();
    client = LlmClient.builder().config(TestConfig.openAiCompatible("openai", upstream, conf)).build();
    assertEquals(0, CALL.multiply(BigDecimal.valueOf(2)).compareTo(await(client.keys().spend(
        await(client.keys().get(key.id())).orElseThrow())).total()), "read back from the journal");
  }

  @Test
  void anUnknownOrRevokedIdentityIsRefused() throws Exception {
    upstream.always(Reply.json(200, ANSWER));
    KeyException unknown = assertInstanceOf(KeyException.class,
        failure(client.as(CallerIdentity.ofKey("0123456789abcdef")).chat(ask("openai/gpt-4o-mini"))));
    assertEquals(ErrorKind.AUTHENTICATION, unknown.kind());
    VirtualKey key = await(client.keys().create(Json.parse("{}"), "host-service")).key();
    await(client.keys().revoke(key.id(), "host-service"));
    KeyException revoked = assertInstanceOf(KeyException.class,
        failure(client.as(CallerIdentity.ofKey(key.id())).chat(ask("openai/gpt-4o-mini"))));
    assertTrue(revoked.getMessage().contains("revoked"), revoked.getMessage());
    assertEquals(0, upstream.requestCount());
  }
}
