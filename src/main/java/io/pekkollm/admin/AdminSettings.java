package io.pekkollm.admin;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Settings of the admin API and web UI, read from {@code pekko-llm.admin} (reference.conf documents each key).
 * {@link #toString()} never shows the secrets key.
 *
 * @param secretsKey   base64 AES-256 key that encrypts runtime provider secrets; empty: none can be stored
 * @param drainTimeout how long a removed or replaced provider may finish the calls it admitted
 * @param testTimeout  bound of each step of a connection test and of a model listing in the wizard
 * @param askTimeout   bound of a request to the runtime-provider entity
 * @param syncInterval how often this node follows changes made through other nodes (zero: never)
 * @param uiEnabled    whether the gateway serves the web UI at {@code /ui}
 */
public record AdminSettings(String secretsKey, Duration drainTimeout, Duration testTimeout, Duration askTimeout,
    Duration syncInterval, boolean uiEnabled) {

  /** Reads {@code pekko-llm.admin} of {@code config} (the whole configuration). */
  public static AdminSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.admin");
    return new AdminSettings(c.getString("secrets-key").trim(), c.getDuration("drain-timeout"),
        c.getDuration("test-timeout"), c.getDuration("ask-timeout"), c.getDuration("sync-interval"),
        c.getBoolean("ui.enabled"));
  }

  @Override
  public String toString() {
    return "AdminSettings{secretsKey=" + (secretsKey.isEmpty() ? "(none)" : "(set)") + ", drainTimeout=" + drainTimeout
        + ", testTimeout=" + testTimeout + ", uiEnabled=" + uiEnabled + "}";
  }
}
