package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.testkit.TestConfig;
import java.nio.file.Files;
import java.sql.DriverManager;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A stream interrupted under one ActorSystem is resumed under a new one on the same journal: embedded H2
 * (same data directory) and PostgreSQL (CI starts it; elsewhere the test is skipped with a message when no
 * PostgreSQL is reachable).
 */
class RecoveryPersistenceTest {
  private static final String ANSWER = "Vingt-deux 🌍 petits mots 東京 qui survivent à un redémarrage complet du système.";

  @Test
  void resumesAfterANewActorSystemStartsOnTheSameH2File() throws Exception {
    Config config = TestConfig.of("pekko-llm.recovery.data-dir = \"" + Files.createTempDirectory("h2-restart") + "\"");
    resumeAcrossRestart(config);
  }

  @Test
  void resumesAfterRestartOnPostgreSql() throws Exception {
    String url = env("PEKKO_LLM_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/pekko_llm_test");
    String user = env("PEKKO_LLM_TEST_PG_USER", "pekko_llm");
    String password = env("PEKKO_LLM_TEST_PG_PASSWORD", "pekko_llm");
    try (var c = DriverManager.getConnection(url, user, password)) {
      assertTrue(c.isValid(2));
    } catch (Exception e) {
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError("CI must provide PostgreSQL at " + url + " (see .ci/run): " + e.getMessage(), e);
      }
      Assumptions.abort("SKIPPED: no PostgreSQL reachable at " + url + " (" + e.getMessage()
          + "); set PEKKO_LLM_TEST_PG_URL / _USER / _PASSWORD or run .ci/run");
    }
    resumeAcrossRestart(TestConfig.of("pekko-llm.recovery { journal-url = \"" + url + "\", journal-user = \"" + user
        + "\", journal-password = \"" + password + "\" }"));
  }

  private static void resumeAcrossRestart(Config config) throws Exception {
    String recoveryId;
    String had;
    long lastId;
    MockProvider breaking = MockProvider.builder("flaky")
        .failAfterChunks(5, new LlmException(ErrorKind.NETWORK, "connection reset by peer", null, true, null)).build();
    try (LlmClient first = LlmClient.builder().config(config).provider(breaking).build()) {
      StringBuilder got = new StringBuilder();
      var pair = first.stream(ChatRequest.builder("flaky/echo").user(ANSWER).build())
          .toMat(Sink.foreach(c -> got.append(c.textDelta() == null ? "" : c.textDelta())), Keep.both())
          .run(first.system());
      ChatStream handle = pair.first();
      try {
        pair.second().toCompletableFuture().get(10, TimeUnit.SECONDS);
        throw new AssertionError("the stream should have broken");
      } catch (java.util.concurrent.ExecutionException expected) {
        assertEquals(ErrorKind.NETWORK, ((LlmException) expected.getCause()).kind());
      }
      recoveryId = handle.recoveryId();
      had = got.toString();
      lastId = handle.lastEventId();
      assertEquals(5, lastId);
      assertTrue(ANSWER.startsWith(had) && !had.isEmpty(), had);
    }
    // A new ActorSystem, the same journal: the stream is known, interrupted and resumable.
    try (LlmClient second = LlmClient.builder().config(config).provider(MockProvider.builder("flaky").build()).build()) {
      StreamSnapshot s = second.streamStatus(recoveryId).toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow();
      assertEquals("interrupted", s.status());
      assertEquals(had, s.text());
      assertTrue(s.recoverable());
      ResumedStream r = second.resume(recoveryId, ResumeStrategy.EXACT, null, lastId)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      StringBuilder joined = new StringBuilder(had.substring(0, had.offsetByCodePoints(0, r.keptChars())));
      r.chunks().runForeach(j -> joined.append(j.chunk().textDelta() == null ? "" : j.chunk().textDelta()),
          second.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(ANSWER, joined.toString());
      assertEquals("completed", second.streamStatus(recoveryId).toCompletableFuture().get().orElseThrow().status());
    }
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }
}
