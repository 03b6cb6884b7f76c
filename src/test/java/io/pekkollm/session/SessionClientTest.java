package io.pekkollm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.catalog.Pricing;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Sessions through the Java API: turns, persistence across a restart, context strategy, export and import. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionClientTest {
  private final Config config = TestConfig.of("");
  /**
   * A journal of its own for the extra clients some tests start: the session index has one writer per journal,
   * and a second writer on the shared one would cost the main client a conflict and a retry.
   */
  private final Config ownJournal = TestConfig.of("pekko-llm.recovery.data-dir = \""
      + TestConfig.DATA_DIR.resolve("sessions-restart").toString().replace("\\", "/") + "\"");
  /** Prices for m/echo so costs add up; a second model with a tiny window to make history outgrow it. */
  private final ModelCatalog catalog = ModelCatalog.of(List.of(
      ModelEntry.builder("m", "echo").contextWindow(100_000)
          .pricing(Pricing.of("1", "2")).build(),
      ModelEntry.builder("m", "tiny").contextWindow(120).build()));
  private final AtomicInteger failNext = new AtomicInteger();
  private MockProvider mock;
  private LlmClient client;

  @BeforeAll
  void start() {
    client = newClient(config);
  }

  @AfterAll
  void stop() {
    client.close();
  }

  private LlmClient newClient(Config cfg) {
    mock = MockProvider.builder("m").handler(r -> {
      if (failNext.getAndSet(0) > 0) {
        throw new LlmException(ErrorKind.SERVER_ERROR, "upstream broke");
      }
      return io.pekkollm.provider.mock.MockReply.text("re: " + r.lastUserText());
    }).build();
    return LlmClient.builder().config(cfg).catalog(catalog).provider(mock).build();
  }

  private static <T> T await(CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private static LlmException failure(CompletionStage<?> s) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(s));
    return assertInstanceOf(LlmException.class, e.getCause());
  }

  private SessionClient sessions() {
    return client.sessions();
  }

  @Test
  void aTurnAppendsTheUserMessageAndTheReplyAndAddsUpUsageAndCost() throws Exception {
    Session s = await(sessions().create(NewSession.builder().model("m/echo").name("first").system("Be brief.")
        .metadata(Map.of("team", "a")).build()));
    assertEquals(List.of("system"), s.messages().stream().map(m -> m.message().role()).toList());
    ChatResponse r1 = await(sessions().chat(s.id(), "hello there"));
    assertEquals("re: hello there", r1.text());
    ChatResponse r2 = await(sessions().chat(s.id(), "and again"));
    Session after = await(sessions().get(s.id())).orElseThrow();
    assertEquals(List.of("system", "user", "assistant", "user", "assistant"),
        after.messages().stream().map(m -> m.message().role()).toList());
    assertEquals("re: and again", after.messages().get(4).message().text());
    assertEquals("m/echo", after.messages().get(4).model());
    assertEquals(r1.usage().inputTokens() + r2.usage().inputTokens(), after.usage().inputTokens());
    assertEquals(r1.usage().outputTokens() + r2.usage().outputTokens(), after.usage().outputTokens());
    assertEquals(r1.cost().orElseThrow().plus(r2.cost().orElseThrow()).total(), after.cost().total());
    assertTrue(after.cost().total().signum() > 0);
    // The second call carried the whole history.
    List<Message> sent = mock.requests().get(mock.requests().size() - 1).messages();
    assertEquals(4, sent.size());
    assertEquals("Be brief.", sent.get(0).text());
  }

  @Test
  void aStreamedTurnIsRecordedWhenItCompletes() throws Exception {
    Session s = await(sessions().create(NewSession.of("m/echo")));
    List<ChatChunk> chunks = await(await(sessions().stream(s.id(), SessionClient.turn().user("stream this please")
        .build())).runWith(Sink.seq(), client.system()));
    assertEquals("re: stream this please", String.join("", chunks.stream().map(ChatChunk::textDelta)
        .filter(t -> t != null).toList()));
    Session after = await(sessions().get(s.id())).orElseThrow();
    assertEquals(2, after.messages().size(), "the turn is recorded before the stream completes");
    assertEquals("re: stream this please", after.messages().get(1).message().text());
    assertTrue(after.usage().outputTokens() > 0);
  }

  @Test
  void aFailedTurnLeavesTheSessionUnchangedAndReleasesIt() throws Exception {
    Session s = await(sessions().create(NewSession.of("m/echo")));
    failNext.set(1);
    assertEquals(ErrorKind.SERVER_ERROR, failure(sessions().chat(s.id(), "will fail")).kind());
    assertEquals(0, await(sessions().get(s.id())).orElseThrow().messages().size());
    assertEquals("re: works now", await(sessions().chat(s.id(), "works now")).text(), "the session is free again");
    assertEquals(ErrorKind.INVALID_REQUEST, failure(sessions().chat(s.id(),
        SessionClient.turn().assistant("not allowed").build())).kind());
    assertEquals(ErrorKind.NOT_FOUND, failure(sessions().chat("no-such-session", "hi")).kind());
  }

  @Test
  void oneTurnAtATimePerSession() throws Exception {
    MockProvider slow = MockProvider.builder("slow").reply("a b c d e f").chunkDelay(Duration.ofMillis(100)).build();
    try (LlmClient c = LlmClient.builder().config(ownJournal).provider(slow).build()) {
      Session s = await(c.sessions().create(NewSession.of("slow/echo")));
      var first = await(c.sessions().stream(s.id(), SessionClient.turn().user("one").build()))
          .runWith(Sink.seq(), c.system());
      LlmException busy = failure(c.sessions().chat(s.id(), "two"));
      assertEquals(ErrorKind.CONFLICT, busy.kind());
      await(first);
      assertEquals("a b c d e f", await(c.sessions().chat(s.id(), "three")).text());
      assertEquals(4, await(c.sessions().get(s.id())).orElseThrow().messages().size());
    }
  }

  @Test
  void historyThatOutgrowsTheModelIsShortenedBySlidingWindowButKeptWhole() throws Exception {
    Session s = await(sessions().create(NewSession.builder().model("m/tiny").system("sys").build()));
    String words = "lorem ipsum dolor sit amet consectetur ";
    ChatResponse last = null;
    int turns = 0;
    while (turns < 12 && (last == null || last.truncation().isEmpty())) {
      last = await(sessions().chat(s.id(), turns + " " + words));
      turns++;
    }
    assertTrue(last.truncation().isPresent(), "the window is 120 tokens: the history had to be shortened");
    assertTrue(turns > 1, "a single turn fits");
    assertEquals(TruncationStrategy.SLIDING_WINDOW, last.truncation().get().strategy());
    List<Message> sent = mock.requests().get(mock.requests().size() - 1).messages();
    Session after = await(sessions().get(s.id())).orElseThrow();
    assertEquals(1 + 2 * turns, after.messages().size(), "the stored history is never shortened");
    assertTrue(sent.size() < 2 * turns, "sent " + sent.size() + " of " + 2 * turns + " messages");
    assertEquals("sys", sent.get(0).text(), "system messages are kept");
    assertEquals((turns - 1) + " " + words, sent.get(sent.size() - 1).text(), "the newest turn is kept");

    Session strict = await(sessions().create(NewSession.builder().model("m/tiny").noContextStrategy().build()));
    LlmException rejected = null;
    int kept = 0;
    for (int i = 0; i < 12 && rejected == null; i++) {
      try {
        await(sessions().chat(strict.id(), words));
        kept += 2;
      } catch (ExecutionException e) {
        rejected = assertInstanceOf(LlmException.class, e.getCause());
      }
    }
    assertEquals(ErrorKind.CONTEXT_LENGTH_EXCEEDED, rejected.kind(), "without a strategy a turn that does not fit fails");
    assertEquals(kept, await(sessions().get(strict.id())).orElseThrow().messages().size(), "and is not recorded");
  }

  @Test
  void sessionsSurviveARestartOfTheActorSystem() throws Exception {
    LlmClient first = newClient(ownJournal);
    String id;
    try {
      Session s = await(first.sessions().create(NewSession.builder().model("m/echo").name("durable").build()));
      id = s.id();
      await(first.sessions().chat(id, "remember me"));
    } finally {
      first.close();
    }
    assertTrue(first.system().whenTerminated().isCompleted());
    LlmClient second = newClient(ownJournal);
    try {
      Session restored = await(second.sessions().get(id)).orElseThrow();
      assertEquals("durable", restored.name());
      assertEquals(List.of("remember me", "re: remember me"), restored.messages().stream()
          .map(m -> m.message().text()).toList());
      await(second.sessions().chat(id, "still here?"));
      List<Message> sent = mock.requests().get(mock.requests().size() - 1).messages();
      assertEquals(3, sent.size(), "the restored history goes upstream");
      assertTrue(await(second.sessions().list(1000, null)).sessions().stream().anyMatch(x -> x.id().equals(id)));
    } finally {
      second.close();
    }
  }

  @Test
  void exportThenImportGivesTheSameSession() throws Exception {
    Session s = await(sessions().create(NewSession.builder().model("m/echo").name("to export").system("S")
        .metadata(Map.of("k", "v")).contextStrategy(TruncationStrategy.SMART).build()));
    await(sessions().chat(s.id(), "héllo 🌍"));
    await(sessions().chat(s.id(), "second"));
    Session original = await(sessions().get(s.id())).orElseThrow();
    String json = await(sessions().export(s.id()));
    assertEquals(SessionJson.FORMAT_VERSION, Json.parse(json).get("format_version").asInt());

    LlmException taken = failure(sessions().importJson(json, false));
    assertEquals(ErrorKind.CONFLICT, taken.kind());

    Session copy = await(sessions().importJson(json, true));
    assertFalse(copy.id().equals(original.id()));
    assertEquals(original.name(), copy.name());
    assertEquals(original.model(), copy.model());
    assertEquals(original.contextStrategy(), copy.contextStrategy());
    assertEquals(original.metadata(), copy.metadata());
    assertEquals(original.messages(), copy.messages());
    assertEquals(original.usage(), copy.usage());
    assertEquals(original.cost(), copy.cost());
    assertEquals(original.createdAt(), copy.createdAt());
    assertEquals(json.replace(original.id(), copy.id()).replaceAll("\"updated_at\":\"[^\"]+\"", ""),
        await(sessions().export(copy.id())).replaceAll("\"updated_at\":\"[^\"]+\"", ""));

    assertTrue(await(sessions().delete(s.id())));
    Session back = await(sessions().importJson(json, false));
    assertEquals(s.id(), back.id(), "a deleted session's id may be imported again");
    assertEquals(original.messages(), back.messages());
  }

  @Test
  void aMalformedImportIsRejectedWithAClearErrorAndChangesNothing() throws Exception {
    Session s = await(sessions().create(NewSession.of("m/echo")));
    await(sessions().chat(s.id(), "keep"));
    String good = await(sessions().export(s.id()));
    int before = await(sessions().list(SessionClient.MAX_PAGE, null)).sessions().size();
    Map<String, String> bad = Map.of(
        "not json {", "not JSON",
        "[1,2]", "must be a JSON object",
        good.replace("\"model\":\"m/echo\"", "\"model\":\"echo\""), "model",
        good.replace("\"role\":\"user\"", "\"role\":\"wizard\""), "messages[0].role",
        good.replace("\"format_version\":1", "\"format_version\":2"), "format_version",
        good.replaceFirst("\"created_at\":\"[^\"]+\"", "\"created_at\":\"yesterday\""), "created_at",
        good.replace("\"metadata\":{}", "\"metadata\":{\"n\":1}"), "metadata.n",
        good.replace("\"messages\":[", "\"messages\":[{\"role\":\"tool\",\"content\":\"x\"},"), "messages[0].tool_call_id");
    for (Map.Entry<String, String> b : bad.entrySet()) {
      LlmException e = failure(sessions().importJson(b.getKey(), true));
      assertEquals(ErrorKind.INVALID_REQUEST, e.kind(), b.getValue());
      assertTrue(e.getMessage().startsWith("invalid session file: "), e.getMessage());
      assertTrue(e.getMessage().contains(b.getValue()), e.getMessage() + " should name " + b.getValue());
    }
    assertEquals(before, await(sessions().list(SessionClient.MAX_PAGE, null)).sessions().size(), "nothing was added");
    assertEquals(2, await(sessions().get(s.id())).orElseThrow().messages().size(), "nothing was changed");
  }

  @Test
  void deleteRemovesTheSessionItsListingAndItsEvents() throws Exception {
    Session s = await(sessions().create(NewSession.builder().model("m/echo").name("doomed").build()));
    await(sessions().chat(s.id(), "one"));
    await(sessions().chat(s.id(), "two"));
    assertTrue(await(sessions().list(SessionClient.MAX_PAGE, null)).sessions().stream()
        .anyMatch(x -> x.id().equals(s.id())));
    assertTrue(await(sessions().delete(s.id())));
    assertTrue(await(sessions().get(s.id())).isEmpty());
    assertFalse(await(sessions().delete(s.id())));
    assertFalse(await(sessions().list(SessionClient.MAX_PAGE, null)).sessions().stream()
        .anyMatch(x -> x.id().equals(s.id())));
    JournalSettings journal = JournalSettings.create(config);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long left;
    do {
      try (Connection c = JournalSchema.connect(journal); PreparedStatement ps = c.prepareStatement(
          "SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" = ?")) {
        ps.setString(1, "session|" + s.id());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          left = rs.getLong(1);
        }
      }
    } while (left > 1 && System.nanoTime() < deadline);
    assertEquals(1, left, "only the tombstone is left in the journal");
  }

  @Test
  void updateChangesModelNameMetadataAndStrategy() throws Exception {
    Session s = await(sessions().create(NewSession.builder().model("m/echo").name("old").build()));
    Session u = await(sessions().update(s.id(), SessionUpdate.builder().name("new").model("m/tiny")
        .metadata(Map.of("a", "b")).contextStrategy(null).build()));
    assertEquals("new", u.name());
    assertEquals("m/tiny", u.model());
    assertEquals(Map.of("a", "b"), u.metadata());
    assertEquals(null, u.contextStrategy());
    assertEquals(ErrorKind.MODEL_NOT_FOUND, failure(sessions().update(s.id(),
        SessionUpdate.builder().model("nosuch/model").build())).kind());
    assertTrue(await(sessions().list(SessionClient.MAX_PAGE, null)).sessions().stream()
        .anyMatch(x -> x.id().equals(s.id()) && x.name().equals("new") && x.model().equals("m/tiny")));
    assertEquals(ErrorKind.CONFLICT, failure(sessions().create(NewSession.builder().id(s.id()).model("m/echo")
        .build())).kind());
    assertEquals(ErrorKind.INVALID_REQUEST, failure(sessions().create(NewSession.builder().id("bad id!")
        .model("m/echo").build())).kind());
  }

  @Test
  void aTurnMayUseAnotherModelWithoutChangingTheSession() throws Exception {
    Session s = await(sessions().create(NewSession.of("m/echo")));
    ChatRequest turn = ChatRequest.builder("mock/echo").user("via the default mock").build();
    assertEquals("via the default mock", await(sessions().chat(s.id(), turn)).text());
    Session after = await(sessions().get(s.id())).orElseThrow();
    assertEquals("m/echo", after.model());
    assertEquals("mock/echo", after.messages().get(1).model());
  }
}
