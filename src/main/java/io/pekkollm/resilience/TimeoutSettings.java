package io.pekkollm.resilience;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Time limits of one attempt on one provider, from its {@code timeouts} block and {@code response-timeout} (see
 * reference.conf). Each one that fires fails the attempt with kind TIMEOUT (HTTP 504) and its own error code,
 * so a caller and a dashboard can tell them apart. {@link Duration#ZERO} turns a limit off.
 *
 * @param connect   establishing the connection (code {@code connect_timeout})
 * @param firstByte from sending a streamed request until its first chunk (code {@code first_byte_timeout})
 * @param idle      the longest gap between two chunks of a streamed answer (code {@code idle_timeout})
 * @param total     the whole attempt, streamed or not (code {@code total_timeout})
 * @param response  from sending a non-streamed request until its complete answer (code {@code response_timeout})
 */
public record TimeoutSettings(Duration connect, Duration firstByte, Duration idle, Duration total, Duration response) {

  /** Reads {@code timeouts} and {@code response-timeout} of {@code providerConfig}. */
  public static TimeoutSettings create(Config providerConfig) {
    Config c = providerConfig.getConfig("timeouts");
    return new TimeoutSettings(c.getDuration("connect"), c.getDuration("first-byte"), c.getDuration("idle"),
        c.getDuration("total"), providerConfig.getDuration("response-timeout"));
  }
}
