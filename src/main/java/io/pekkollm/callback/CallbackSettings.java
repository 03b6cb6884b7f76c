package io.pekkollm.callback;

import com.typesafe.config.Config;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code pekko-llm.callbacks}: the delivery queue of every callback and the two built-in sinks, each off unless
 * configured (reference.conf documents every key).
 *
 * @param queueSize      events held per callback before new ones are dropped
 * @param flushInterval  longest time a batching callback holds events while more keep coming
 * @param includeBodies  whether the built-in sinks write request messages and answer text (redacted)
 * @param file           the JSON-lines file sink's path; null: no file sink
 * @param webhook        the webhook sink's settings; null: no webhook sink
 */
public record CallbackSettings(int queueSize, Duration flushInterval, boolean includeBodies, String file,
    Webhook webhook) {

  /**
   * The webhook sink's settings.
   *
   * @param url          where batches are POSTed (a JSON array of events)
   * @param batchSize    events per POST at most
   * @param maxRetries   retries of a failed POST (5xx, 429, connection failure) before its batch is dropped
   * @param retryBackoff wait before the first retry, doubled for each next one
   * @param timeout      longest wait for one POST's answer
   * @param headers      headers sent with every POST (e.g. an Authorization for the receiver)
   */
  public record Webhook(URI url, int batchSize, int maxRetries, Duration retryBackoff, Duration timeout,
      Map<String, String> headers) {}

  /** Reads {@code pekko-llm.callbacks} of {@code config} (the whole configuration). */
  public static CallbackSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.callbacks");
    int queueSize = c.getInt("queue-size");
    if (queueSize < 1) {
      throw new IllegalArgumentException("pekko-llm.callbacks.queue-size must be at least 1, not " + queueSize);
    }
    String file = c.getString("file.path").trim();
    Webhook webhook = null;
    String url = c.getString("webhook.url").trim();
    if (!url.isEmpty()) {
      if (!url.startsWith("http://") && !url.startsWith("https://")) {
        throw new IllegalArgumentException("pekko-llm.callbacks.webhook.url must be an http:// or https:// URL, not '"
            + url + "'");
      }
      Map<String, String> headers = new LinkedHashMap<>();
      c.getConfig("webhook.headers").entrySet()
          .forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue().unwrapped())));
      webhook = new Webhook(URI.create(url), Math.max(1, c.getInt("webhook.batch-size")),
          Math.max(0, c.getInt("webhook.max-retries")), c.getDuration("webhook.retry-backoff"),
          c.getDuration("webhook.timeout"), Map.copyOf(headers));
    }
    return new CallbackSettings(queueSize, c.getDuration("flush-interval"), c.getBoolean("include-bodies"),
        file.isEmpty() ? null : file, webhook);
  }
}
