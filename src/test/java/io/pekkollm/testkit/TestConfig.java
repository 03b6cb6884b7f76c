package io.pekkollm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * Configurations for tests: loopback only, quiet logs, providers pointed at local upstreams. Retries, circuit
 * breakers and learning rate limits from responses are off by default, so a test that scripts one upstream reply
 * sees exactly that reply's outcome, whatever ran before it on the same client; resilience tests turn them on in
 * their own {@code hocon}.
 */
public final class TestConfig {
  private TestConfig() {}

  /** One journal directory per test JVM, under the temp directory (never the project's ./data). */
  public static final java.nio.file.Path DATA_DIR = java.nio.file.Paths.get(System.getProperty("java.io.tmpdir"),
      "pekko-llm-test-" + ProcessHandle.current().pid());

  /** The defaults plus {@code hocon} (which wins). */
  public static Config of(String hocon) {
    return ConfigFactory.parseString(hocon)
        .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING\n"
            + "pekko-llm.recovery.data-dir = \"" + DATA_DIR.toString().replace("\\", "/") + "\"\n"
            + "pekko-llm.provider-defaults.retry.max-attempts = 1\n"
            + "pekko-llm.provider-defaults.circuit-breaker.enabled = off\n"
            + "pekko-llm.provider-defaults.rate-limit.learn-from-headers = off"))
        .withFallback(io.pekkollm.api.LlmConfig.load())
        .resolve();
  }

  /**
   * The defaults on Pekko's persistence test kit: its in-memory journal and snapshot store (plugin ids
   * {@code PersistenceTestKitPlugin.PluginId()}, {@code PersistenceTestKitSnapshotPlugin.PluginId()}), quiet logs.
   */
  public static Config persistenceTestKit() {
    return org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin.getInstance().config()
        .withFallback(org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin.getInstance().config())
        .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING"))
        .withFallback(io.pekkollm.api.LlmConfig.load());
  }

  /** A config whose provider {@code name} (an OpenAI-compatible one) talks to {@code upstream}. */
  public static Config openAiCompatible(String name, Upstream upstream, String extra) {
    return of("pekko-llm.providers." + name + " { kind = openai, base-url = \"" + upstream.url("/v1")
        + "\", api-key = \"sk-test-key-" + name + "\" }\n" + extra);
  }

  /**
   * A config whose {@code openai}, {@code anthropic} and {@code gemini} providers all talk to {@code upstream} (each
   * in its own wire format), with the stream journal off, plus {@code extra}.
   */
  public static Config threeProviders(Upstream upstream, String extra) {
    return of("pekko-llm.providers.openai { base-url = \"" + upstream.url("/v1") + "\", api-key = \"sk-test\" }\n"
        + "pekko-llm.providers.anthropic { base-url = \"" + upstream.url("") + "\", api-key = \"sk-ant-test\" }\n"
        + "pekko-llm.providers.gemini { base-url = \"" + upstream.url("") + "\", api-key = \"gm-test\" }\n"
        + "pekko-llm.recovery.enabled = off\n" + extra);
  }
}
