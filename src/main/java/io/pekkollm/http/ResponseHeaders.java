package io.pekkollm.http;

import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.TruncationReport;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** The gateway's own response headers and ids, the same on every route that answers a chat. */
final class ResponseHeaders {
  private ResponseHeaders() {}

  /** {@code X-Cache: HIT | MISS | COALESCED} and {@code X-Cache-Key} when the request used the response cache. */
  static List<HttpHeader> cache(Optional<CacheStatus> status) {
    return status.<List<HttpHeader>>map(s -> List.of(RawHeader.create("X-Cache", s.outcome().headerValue()),
        RawHeader.create("X-Cache-Key", s.key()))).orElse(List.of());
  }

  /** What truncation dropped: {@code X-Truncated-Messages}, {@code X-Truncation-Tokens-Before} / {@code -After}. */
  static List<HttpHeader> truncation(Optional<TruncationReport> truncation) {
    if (truncation.isEmpty()) {
      return List.of();
    }
    TruncationReport t = truncation.get();
    return List.of(RawHeader.create("X-Truncated-Messages", Integer.toString(t.messagesDropped())),
        RawHeader.create("X-Truncation-Tokens-Before", Integer.toString(t.tokensBefore())),
        RawHeader.create("X-Truncation-Tokens-After", Integer.toString(t.tokensAfter())));
  }

  /** A new completion id, {@code chatcmpl-} and 32 hex digits. */
  static String newId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return "chatcmpl-" + Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE);
  }

  static long nowSeconds() {
    return System.currentTimeMillis() / 1000;
  }
}
