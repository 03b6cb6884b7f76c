package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.cache.CacheEntryInfo;
import io.pekkollm.cache.CacheKeys;
import io.pekkollm.cache.CacheStats;
import io.pekkollm.cache.ResponseCache;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.util.Json;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The response cache's admin routes, under {@code /v1} (so behind the gateway's API key when one is set):
 * <ul>
 *   <li>{@code GET /v1/cache}: settings and counters (hits, misses, coalesced, stores, evictions, expirations,
 *   entries, bytes, hit rate);</li>
 *   <li>{@code GET /v1/cache/entries?limit=n}: the most recently used entries (default 100, at most 10000);</li>
 *   <li>{@code DELETE /v1/cache}: removes every entry; {@code DELETE /v1/cache/{key}}: removes one (404 when
 *   there is none). Keys are in each cached response's {@code X-Cache-Key} header.</li>
 * </ul>
 */
final class CacheRoutes {
  private static final int MAX_LIMIT = 10_000;

  private final ResponseCache cache;

  CacheRoutes(ResponseCache cache) {
    this.cache = cache;
  }

  Route route() {
    return concat(
        path("cache", () -> concat(
            get(() -> complete(json(stats()))),
            delete(() -> completeWithFuture(cache.clear().thenApply(n -> json(Json.object().put("deleted", n))))))),
        path(segment("cache").slash("entries"), () -> get(() -> parameterOptional("limit", limit ->
            completeWithFuture(entries(limit.orElse("100")))))),
        path(segment("cache").slash(segment()), key -> delete(() -> completeWithFuture(deleteOne(key)))));
  }

  private ObjectNode stats() {
    CacheStats s = cache.stats();
    ObjectNode o = Json.object()
        .put("enabled", cache.enabled())
        .put("mode", cache.settings().mode().configName())
        .put("default_ttl_seconds", cache.settings().defaultTtl().toSeconds())
        .put("max_ttl_seconds", cache.settings().maxTtl().toSeconds())
        .put("entries", s.entries())
        .put("bytes", s.bytes())
        .put("max_entries", s.maxEntries())
        .put("max_bytes", s.maxBytes())
        .put("hits", s.hits())
        .put("coalesced", s.coalesced())
        .put("misses", s.misses())
        .put("stores", s.stores())
        .put("evictions", s.evictions())
        .put("expirations", s.expirations());
    return o.put("hit_rate", s.hitRate());
  }

  private CompletionStage<HttpResponse> entries(String limitParam) {
    int limit;
    try {
      limit = Integer.parseInt(limitParam.trim());
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 0 || limit > MAX_LIMIT) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "'limit' must be an integer from 0 to " + MAX_LIMIT, "limit"));
    }
    return cache.entries(limit).thenApply(list -> {
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      for (CacheEntryInfo e : list) {
        data.addObject().put("key", e.key()).put("model", e.model()).put("bytes", e.bytes())
            .put("stored_at", e.storedAt().getEpochSecond()).put("expires_at", e.expiresAt().getEpochSecond())
            .put("hits", e.hits());
      }
      return json(root);
    });
  }

  private CompletionStage<HttpResponse> deleteOne(String key) {
    if (!CacheKeys.isKey(key)) {
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "a cache key is 64 lower-case hex digits (the X-Cache-Key response header)", "key"));
    }
    return cache.delete(key).thenApply(removed -> removed
        ? json(Json.object().put("deleted", 1).put("key", key))
        : ErrorResponses.simple(ErrorKind.NOT_FOUND, 404, "no cache entry with key '" + key + "'", "key"));
  }

  private static HttpResponse json(ObjectNode body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(body));
  }
}
