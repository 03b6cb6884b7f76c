package io.pekkollm.http;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The recovery ids of the latest streams this gateway node answered (at most {@link #MAX}, newest first), for the
 * admin UI's live view: the journal keeps streams by id and has no listing of its own. Each id once, moved to the
 * front when a resume answers it again. Thread-safe.
 */
final class RecentStreams {
  static final int MAX = 200;

  private final LinkedHashSet<String> ids = new LinkedHashSet<>();

  /** {@code resp} unchanged, its {@code X-Recovery-Id} (if any) recorded. */
  HttpResponse record(HttpResponse resp) {
    resp.getHeader("X-Recovery-Id").ifPresent(h -> add(h.value()));
    return resp;
  }

  synchronized void add(String id) {
    ids.remove(id);
    ids.add(id);
    if (ids.size() > MAX) {
      ids.remove(ids.iterator().next());
    }
  }

  /** The ids, newest first, at most {@code limit}. */
  synchronized List<String> latest(int limit) {
    List<String> out = new ArrayList<>(ids);
    java.util.Collections.reverse(out);
    return out.subList(0, Math.min(limit, out.size()));
  }
}
