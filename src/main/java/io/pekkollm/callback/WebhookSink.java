package io.pekkollm.callback;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.pekkollm.util.Json;
import io.pekkollm.util.Redactor;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A built-in {@link LlmCallback} that POSTs calls' starts, successes and failures to an HTTP endpoint in batches:
 * a JSON array of events ({@code Content-Type: application/json}), sent when {@code batch-size} events are held, and
 * {@code flush-interval} after the oldest event not yet sent. A POST that fails (connection failure, 5xx, 429) is retried after
 * {@code retry-backoff}, doubling, up to {@code max-retries} times; a batch that still fails, or is refused with
 * another 4xx, is dropped, and counted as an error of this callback ({@code pekko.llm.callback.errors}). While it
 * retries, new events wait in its queue (and are dropped when that fills): the calls themselves never wait.
 * Used from its delivery thread only.
 */
public final class WebhookSink extends EventSink {
  private final CallbackSettings.Webhook settings;
  private final CallEventJson json;
  private final HttpClient http;
  private ArrayNode batch = Json.MAPPER.createArrayNode();

  /** A sink for {@code settings}; request and answer text only with {@code includeBodies}, redacted. */
  public WebhookSink(CallbackSettings.Webhook settings, boolean includeBodies, Redactor redactor) {
    this.settings = settings;
    this.json = new CallEventJson(includeBodies, redactor);
    this.http = HttpClient.newBuilder().connectTimeout(settings.timeout())
        .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
  }

  @Override
  public String name() {
    return "webhook";
  }

  @Override
  void accept(CallEvent event) {
    batch.add(json.toJson(event));
    if (batch.size() >= settings.batchSize()) {
      flush();
    }
  }

  @Override
  public void flush() {
    if (batch.isEmpty()) {
      return;
    }
    ArrayNode sending = batch;
    batch = Json.MAPPER.createArrayNode();
    send(sending);
  }

  private void send(ArrayNode events) {
    HttpRequest.Builder b = HttpRequest.newBuilder(settings.url()).timeout(settings.timeout())
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Json.writeBytes(events)));
    settings.headers().forEach(b::header);
    HttpRequest request = b.build();
    Duration backoff = settings.retryBackoff();
    String last = null;
    for (int attempt = 0; attempt <= settings.maxRetries(); attempt++) {
      if (attempt > 0) {
        pause(backoff);
        backoff = backoff.multipliedBy(2);
      }
      try {
        int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        if (status >= 200 && status < 300) {
          return;
        }
        last = "status " + status;
        if (status < 500 && status != 429) {
          break;
        }
      } catch (IOException e) {
        last = e.getClass().getSimpleName() + ": " + e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        last = "interrupted";
        break;
      }
    }
    throw new IllegalStateException("webhook " + settings.url().getHost() + " dropped a batch of " + events.size()
        + " event(s) (" + last + ")");
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
