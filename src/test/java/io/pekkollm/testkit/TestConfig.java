package io.pekkollm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/** Configurations for tests: loopback only, quiet logs, providers pointed at local upstreams. */
public final class TestConfig {
  private TestConfig() {}

  /** The defaults plus {@code hocon} (which wins). */
  public static Config of(String hocon) {
    return ConfigFactory.parseString(hocon)
        .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING"))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  /** A config whose provider {@code name} (an OpenAI-compatible one) talks to {@code upstream}. */
  public static Config openAiCompatible(String name, Upstream upstream, String extra) {
    return of("pekko-llm.providers." + name + " { kind = openai, base-url = \"" + upstream.url("/v1")
        + "\", api-key = \"sk-test-key-" + name + "\" }\n" + extra);
  }
}
