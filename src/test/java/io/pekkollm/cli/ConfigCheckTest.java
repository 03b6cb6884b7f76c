package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.pekkollm.testkit.TestConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** check-config: each kind of mistake gives its message and exit code; a valid configuration prints the plan. */
class ConfigCheckTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int check(String hocon, Map<String, String> env, boolean connect) {
    Config config = TestConfig.of(hocon);
    return Main.checkConfig(config, env, connect, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private int check(String hocon) {
    return check(hocon, Map.of(), false);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aValidConfigurationPrintsWhatWouldRunAndExitsZero() {
    assertEquals(0, check("pekko-llm.providers.openai.api-key = \"sk-test-key-check\"\n"
        + "pekko-llm.routing.groups.fast = [\"openai/gpt-4o-mini\", \"mock/echo\"]"), err());
    String plan = out();
    assertTrue(plan.matches("(?s).*\\n  openai +enabled +\\(API key set, e\\.g\\. by OPENAI_API_KEY\\).*"), plan);
    assertTrue(plan.matches("(?s).*\\n  anthropic +disabled +provider 'anthropic' is not configured: set "
        + "ANTHROPIC_API_KEY.*"), plan);
    assertTrue(plan.matches("(?s).*\\n  mock +enabled +\\(enabled = on\\).*"), plan);
    assertTrue(plan.matches("(?s).*\\n  ollama +enabled +\\(needs no API key\\).*"), plan);
    assertTrue(plan.contains("  fast (") && plan.contains("openai/gpt-4o-mini, mock/echo"), plan);
    assertTrue(plan.contains("journal: H2 file " + TestConfig.DATA_DIR.resolve("journal.mv.db")), plan);
    assertTrue(plan.contains("gateway: http://127.0.0.1:8080"), plan);
    assertTrue(plan.contains("body logging: off"), plan);
    assertTrue(plan.endsWith("configuration OK\n") || plan.endsWith("configuration OK\r\n"), plan);
    assertFalse(plan.contains("sk-test-key-check"), "the plan never prints a key");
    assertEquals("", err());
  }

  @Test
  void tracingIsShownOffByDefaultAndOnWithAnOtlpEndpoint() {
    assertEquals(0, check("", Map.of(), false), err());
    assertTrue(out().contains("tracing: off (set OTEL_EXPORTER_OTLP_ENDPOINT"), out());
    out.reset();
    assertEquals(0, check("", Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"), false), err());
    assertTrue(out().contains("tracing: on, OTLP to http://127.0.0.1:4318"), out());
    out.reset();
    assertEquals(0, check("", Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_SDK_DISABLED",
        "true"), false), err());
    assertTrue(out().contains("tracing: off"), out());
    assertEquals(2, check("pekko-llm.tracing.enabled = sometimes"));
    assertTrue(err().contains("pekko-llm.tracing.enabled must be on, off or auto"), err());
  }

  @Test
  void anUnknownKeyIsAnErrorWithTheNearestKnownKey() {
    assertEquals(2, check("pekko-llm.gateway.prot = 9000"));
    assertTrue(err().contains("error: unknown key pekko-llm.gateway.prot; did you mean 'port'?"), err());
    assertTrue(out().contains("configuration has errors"), out());
  }

  @Test
  void theDocumentedNoPreloadSystemPropertyIsNoUnknownKey() {
    // README and startup-classes.txt tell operators to start with -Dpekko-llm.no-preload=true.
    assertEquals(0, check("pekko-llm.no-preload = true"), err());
    assertEquals(2, check("pekko-llm.no-preloads = true"), "a misspelling is still found");
  }

  @Test
  void unknownKeysInsideProviderBlocksAreFoundToo() {
    assertEquals(2, check("pekko-llm.providers.openai { api-kye = x, retry.max-attempt = 3, "
        + "logging.bodys = all, headers { X-Anything = y } }\n"
        + "pekko-llm.providers.vllm { kind = openai, base-url = \"http://127.0.0.1:1/v1\", requires-api-key = false }"));
    String e = err();
    assertTrue(e.contains("unknown key pekko-llm.providers.openai.api-kye; did you mean 'api-key'?"), e);
    assertTrue(e.contains("unknown key pekko-llm.providers.openai.retry.max-attempt; did you mean 'max-attempts'?"), e);
    assertTrue(e.contains("unknown key pekko-llm.providers.openai.logging.bodys; did you mean 'bodies'?"), e);
    assertFalse(e.contains("X-Anything"), "headers are the user's own names: " + e);
    assertFalse(e.contains("vllm"), "a provider of the user's own is fine: " + e);
  }

  @Test
  void badKeySettingsAreErrorsNamingTheSetting() {
    assertEquals(2, check("pekko-llm.keys.spend-snapshot-every = -1"));
    assertTrue(err().contains("pekko-llm.keys.spend-snapshot-every must be >= 0 (0: no snapshots), not -1"), err());
    err.reset();
    assertEquals(2, check("pekko-llm.keys.spend-write-timeout = 0s"));
    assertTrue(err().contains("pekko-llm.keys.spend-write-timeout must be > 0"), err());
    err.reset();
    assertEquals(2, check("pekko-llm.keys.metrics-max-keys = -5"));
    assertTrue(err().contains("pekko-llm.keys.metrics-max-keys must be >= 0, not -5"), err());
    err.reset();
    assertEquals(2, check("pekko-llm.keys.spend-durability = eventually"));
    assertTrue(err().contains("pekko-llm.keys.spend-durability must be per-call or background, not 'eventually'"),
        err());
    err.reset();
    assertEquals(0, check("pekko-llm.keys.spend-durability = background"), err());
    assertEquals(0, check("pekko-llm.keys.spend-snapshot-every = 0"), "0 turns snapshots off: " + err());
  }

  @Test
  void aBadDurationIsAnErrorNamingTheKey() {
    assertEquals(2, check("pekko-llm.admission-timeout = fast"));
    assertTrue(err().contains("admission-timeout"), err());
    assertTrue(err().contains("No number in duration value 'fast'"), err());
    out.reset();
    err.reset();
    assertEquals(2, check("pekko-llm.provider-defaults.response-timeout = 5 parsecs"));
    assertTrue(err().contains("response-timeout"), err());
  }

  @Test
  void aGroupNamingAnUnknownProviderIsAnErrorAnUnknownModelAWarning() {
    assertEquals(2, check("pekko-llm.routing.groups.fast = [\"opnai/gpt-4o-mini\"]"));
    assertTrue(err().contains("error: pekko-llm.routing.groups.fast lists 'opnai/gpt-4o-mini': no provider 'opnai' "
        + "is configured; did you mean 'openai'?"), err());
    out.reset();
    err.reset();
    assertEquals(0, check("pekko-llm.providers.openai.api-key = \"sk-test-key-check\"\n"
        + "pekko-llm.routing.groups.fast = [\"openai/gpt-4o-mni\", \"anthropic/claude-3-5-haiku-20241022\"]"));
    assertTrue(err().contains("warning: pekko-llm.routing.groups.fast lists 'openai/gpt-4o-mni': the model catalog "
        + "does not know it (it is sent as it is); did you mean 'openai/gpt-4o-mini'?"), err());
    assertTrue(err().contains("warning: pekko-llm.routing.groups.fast lists 'anthropic/claude-3-5-haiku-20241022', "
        + "but provider 'anthropic' is not configured: set ANTHROPIC_API_KEY"), err());
  }

  @Test
  void anUnknownPekkoLlmVariableIsAWarningWithTheNearestKnownOne() {
    assertEquals(0, check("", Map.of("PEKKO_LLM_PROT", "9000", "PEKKO_LLM_PORT", "9000", "HOME", "/root"), false));
    assertTrue(err().contains("warning: environment variable PEKKO_LLM_PROT is not read by pekko-llm; did you mean "
        + "'PEKKO_LLM_PORT'?"), err());
    assertFalse(err().contains("PEKKO_LLM_PORT is not read"), err());
  }

  @Test
  void connectReportsAnUnreachableJournalWithExitOneAndAReachableOneWithZero(@TempDir Path dir) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    assertEquals(1, check("pekko-llm.recovery { journal-url = \"jdbc:postgresql://127.0.0.1:" + closedPort
        + "/journal\", journal-password = \"pg-secret-pw\" }", Map.of(), true));
    assertTrue(out().contains("journal: PostgreSQL jdbc:postgresql://127.0.0.1:" + closedPort + "/journal"), out());
    assertTrue(out().contains("  NOT reachable: "), out());
    assertTrue(err().contains("error: the journal cannot be opened: "), err());
    assertFalse(out().contains("pg-secret-pw") || err().contains("pg-secret-pw"));
    out.reset();
    err.reset();
    String h2 = "pekko-llm.recovery.data-dir = \"" + dir.resolve("data").toString().replace("\\", "/") + "\"";
    assertEquals(0, check(h2, Map.of(), true), err());
    assertTrue(out().contains("(created on first start)") && out().contains("  reachable"), out());
  }

  @Test
  void connectOpensAnExistingH2JournalAndABadJournalUrlIsAConfigurationError(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:h2:file:" + data.resolve("journal"))) {
      c.createStatement().execute("create table probe(x int)");
    }
    assertEquals(0, check("pekko-llm.recovery.data-dir = \"" + data.toString().replace("\\", "/") + "\"", Map.of(),
        true), err());
    assertTrue(out().contains("journal: H2 file " + data.resolve("journal.mv.db") + "\n  reachable"), out());
    out.reset();
    err.reset();
    assertEquals(2, check("pekko-llm.recovery.journal-url = \"mysql://127.0.0.1/x\""));
    assertTrue(err().contains("error: pekko-llm.recovery: PEKKO_LLM_JOURNAL_URL must be a jdbc:postgresql: or jdbc:h2: "
        + "URL, not 'mysql://127.0.0.1/x'"), err());
    err.reset();
    assertEquals(2, check("pekko-llm.recovery.passivate-after-end = 0s"));
    assertTrue(err().contains("pekko-llm.recovery.passivate-after-end must be > 0"), err());
  }

  @Test
  void serveRunsTheSameChecksAndDoesNotStartOnAnError() {
    System.setProperty("pekko-llm.gateway.prot", "9000");
    try {
      assertEquals(2, Main.run(new String[] {"serve", "--port", "0"}, new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8)));
    } finally {
      System.clearProperty("pekko-llm.gateway.prot");
      com.typesafe.config.ConfigFactory.invalidateCaches();
    }
    assertTrue(err().contains("pekko-llm: unknown key pekko-llm.gateway.prot; did you mean 'port'?"), err());
    assertTrue(err().contains("not starting: 1 configuration error(s)"), err());
    assertFalse(out().contains("listening"), out());
  }
}
