package io.pekkollm.provider;

import io.pekkollm.util.LoggingSettings;
import io.pekkollm.util.Redactor;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMessage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body log of one provider ({@code pekko-llm.logging.bodies}): upstream requests and responses, their headers
 * and bodies redacted by the provider's {@link Redactor} (credential headers masked whole) and cut to
 * {@code max-body-chars}, logged at INFO by logger {@code io.pekkollm.bodies}. In mode {@code errors} an exchange
 * is logged only when it failed (an error status or a failed connection), request and response together; in mode
 * {@code all} every request when sent and its response when read (a streamed one when it ends). Thread-safe.
 */
final class BodyLog {
  static final Logger LOG = LoggerFactory.getLogger("io.pekkollm.bodies");

  private final String provider;
  private final LoggingSettings settings;
  private final Redactor redactor;

  private BodyLog(String provider, LoggingSettings settings, Redactor redactor) {
    this.provider = provider;
    this.settings = settings;
    this.redactor = redactor;
  }

  /** The body log of {@code provider}; null when bodies are not logged (so a call allocates nothing for it). */
  static BodyLog create(String provider, LoggingSettings settings, Redactor redactor) {
    return settings.bodies() == LoggingSettings.Bodies.OFF ? null : new BodyLog(provider, settings, redactor);
  }

  /** Starts one exchange: in mode {@code all} the request is logged now. */
  Exchange start(HttpRequest request) {
    StringBuilder sb = new StringBuilder();
    sb.append(request.method().value()).append(' ').append(redactor.redact(request.getUri().toString()));
    headers(sb, request);
    sb.append("\nContent-Type: ").append(request.entity().getContentType()).append("\n\n");
    if (request.entity() instanceof HttpEntity.Strict strict) {
      sb.append(settings.body(redactor, strict.getData().utf8String()));
    } else {
      sb.append("(streamed body)");
    }
    String text = sb.toString();
    if (settings.bodies() == LoggingSettings.Bodies.ALL) {
      LOG.info("{} upstream request: {}", provider, text);
    }
    return new Exchange(text);
  }

  private void headers(StringBuilder sb, HttpMessage message) {
    for (HttpHeader h : message.getHeaders()) {
      sb.append('\n').append(h.name()).append(": ").append(redactor.redactHeader(h.name(), h.value()));
    }
  }

  /** One request and its answer. */
  final class Exchange {
    private final String request;

    private Exchange(String request) {
      this.request = request;
    }

    private boolean all() {
      return settings.bodies() == LoggingSettings.Bodies.ALL;
    }

    /** The connection failed or no response came. */
    void failed(Throwable t) {
      String why = redactor.redact(t.getClass().getSimpleName() + ": " + t.getMessage());
      if (all()) {
        LOG.info("{} upstream request failed: {}", provider, why);
      } else {
        LOG.info("{} upstream request failed: {}\n{}", provider, why, request);
      }
    }

    /** A response read whole. */
    void response(HttpResponse response, String body) {
      int status = response.status().intValue();
      boolean error = status < 200 || status > 299;
      if (!all() && !error) {
        return;
      }
      StringBuilder sb = new StringBuilder().append(status);
      headers(sb, response);
      sb.append("\n\n").append(settings.body(redactor, body));
      if (all()) {
        LOG.info("{} upstream response: {}", provider, sb);
      } else {
        LOG.info("{} upstream request answered with an error: {}\n--- response ---\n{}", provider, request, sb);
      }
    }

    /**
     * A streamed (successful) response's body: in mode {@code all}, tapped so that what it carried is logged when
     * it ends (up to {@code max-body-chars}); otherwise {@code entity} itself.
     */
    HttpEntity streamed(HttpResponse response, HttpEntity entity) {
      if (!all()) {
        return entity;
      }
      int status = response.status().intValue();
      StringBuilder head = new StringBuilder().append(status);
      headers(head, response);
      long keep = 4L * settings.maxBodyChars();
      ByteString[] seen = {ByteString.emptyByteString()};
      long[] total = new long[1];
      Flow<ByteString, ByteString, ?> tap = Flow.of(ByteString.class)
          .map(bs -> {
            total[0] += bs.size();
            if (seen[0].size() < keep) {
              seen[0] = seen[0].concat(bs.take((int) Math.min(bs.size(), keep - seen[0].size())));
            }
            return bs;
          })
          .watchTermination((m, done) -> {
            done.whenComplete((d, err) -> LOG.info("{} upstream streamed response ({} bytes{}): {}\n\n{}", provider,
                total[0], err == null ? "" : ", ended by " + err.getClass().getSimpleName(), head,
                settings.body(redactor, seen[0].utf8String())));
            return m;
          });
      return org.apache.pekko.http.javadsl.model.HttpEntities.createChunked(entity.getContentType(),
          entity.withoutSizeLimit().getDataBytes().via(tap));
    }
  }
}
