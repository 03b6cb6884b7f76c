package io.pekkollm.session;

import com.typesafe.config.Config;
import io.pekkollm.model.TruncationStrategy;
import java.time.Duration;

/**
 * Settings of sessions, from {@code pekko-llm.sessions} (reference.conf documents each key).
 *
 * @param enabled         whether sessions run (they need the recovery journal's database)
 * @param defaultModel    the model of a session created without one ("" : a model is required)
 * @param contextStrategy how a session's history is shortened when it outgrows the model (null: turns that do
 *                        not fit are rejected)
 * @param passivateAfter  how long an idle session stays in memory
 * @param askTimeout      how long a call waits for a session entity
 * @param turnTimeout     after this long a running turn no longer blocks the next one
 * @param retryDeadline   how long a turn's start and its recording are sent again when no answer comes
 */
public record SessionSettings(boolean enabled, String defaultModel, TruncationStrategy contextStrategy,
    Duration passivateAfter, Duration askTimeout, Duration turnTimeout, Duration retryDeadline) {

  public static SessionSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.sessions");
    String strategy = c.getString("context-strategy").trim();
    return new SessionSettings(c.getBoolean("enabled"), c.getString("default-model").trim(),
        strategy.isEmpty() || strategy.equals("none") ? null : TruncationStrategy.of(strategy),
        c.getDuration("passivate-after"), c.getDuration("ask-timeout"), c.getDuration("turn-timeout"),
        c.getDuration("retry-deadline"));
  }
}
