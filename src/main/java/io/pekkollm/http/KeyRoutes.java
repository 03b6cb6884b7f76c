package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.patch;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.keys.AuditEntry;
import io.pekkollm.keys.KeyService;
import io.pekkollm.keys.VirtualKey;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Query;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API of virtual keys, for the master key only ({@code PEKKO_LLM_MASTER_KEY}; a virtual key may read its own {@code /v1/spend}), with LiteLLM's field
 * names: {@code POST /v1/keys} (the secret is in the answer's {@code key}, this once), {@code GET /v1/keys}
 * ({@code ?limit=&after=<id>}), {@code GET|PATCH|DELETE /v1/keys/{id}} (DELETE revokes), {@code POST
 * /v1/keys/{id}/rotate}, {@code GET /v1/spend?key=&team=&model=&from=&to=&group_by=day|model|team|key} (dates
 * {@code yyyy-mm-dd}, UTC, inclusive) and {@code GET /v1/audit?after=&limit=}. Errors are OpenAI's error body.
 */
final class KeyRoutes {
  private static final String ACTOR = "master_key";

  private final GatewayAuth auth;
  private final RequestBodies bodies;

  KeyRoutes(GatewayAuth auth, RequestBodies bodies) {
    this.auth = auth;
    this.bodies = bodies;
  }

  /** The routes under {@code /v1}, for requests that passed the key check. */
  Route route() {
    return extractRequest(req -> concat(
        path("keys", () -> concat(
            post(() -> admin(req, k -> bodies.readJson(req).thenCompose(b -> k.create(b, ACTOR))
                .thenApply(c -> created(c)))),
            get(() -> admin(req, k -> list(k, req.getUri().query()))))),
        path(segment("keys").slash(segment()).slash("rotate"), id ->
            post(() -> admin(req, k -> k.rotate(id, ACTOR).thenApply(KeyRoutes::created)))),
        path(segment("keys").slash(segment()), id -> concat(
            get(() -> admin(req, k -> one(k, id))),
            patch(() -> admin(req, k -> bodies.readJson(req).thenCompose(b -> k.update(id, b, ACTOR))
                .thenApply(v -> ok(v.toJson())))),
            delete(() -> admin(req, k -> k.revoke(id, ACTOR).thenApply(v -> ok(v.toJson())))))),
        path("spend", () -> get(() -> GatewayAuth.Caller.of(req).key() != null && auth.keysEnabled()
            ? ownSpend(req) : admin(req, k -> spend(k, req.getUri().query(), null)))),
        pathPrefix("audit", () -> get(() -> admin(req, k -> audit(k, req.getUri().query()))))));
  }

  private Route admin(HttpRequest req, Function<KeyService, CompletionStage<HttpResponse>> handler) {
    GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
    if (!caller.admin() || !auth.keysEnabled()) {
      String why = auth.keysEnabled() ? "managing keys needs the master key (PEKKO_LLM_MASTER_KEY)"
          : "virtual keys are off: set PEKKO_LLM_MASTER_KEY to manage them";
      return completeWithFuture(auth.refused(req, ErrorResponses.of(new LlmException(ErrorKind.PERMISSION, why))));
    }
    CompletionStage<HttpResponse> resp;
    try {
      resp = handler.apply(auth.keys());
    } catch (RuntimeException e) {
      resp = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(resp.exceptionally(ErrorResponses::of));
  }

  private static HttpResponse created(KeyService.Created c) {
    ObjectNode o = c.key().toJson();
    o.put("key", c.secret());
    return ok(o);
  }

  private static CompletionStage<HttpResponse> one(KeyService keys, String id) {
    return keys.get(id).thenCompose(found -> {
      VirtualKey key = found.orElseThrow(() -> new LlmException(ErrorKind.NOT_FOUND, "no key '" + id + "'", null,
          false, "id"));
      return keys.spend(key).thenApply(s -> {
        ObjectNode o = key.toJson();
        o.put("spend", s.total()).put("period_spend", s.periodSpend())
            .put("budget_reset_at", s.resetsAt() == null ? null : Instant.ofEpochMilli(s.resetsAt()).toString())
            .put("soft_budget_exceeded", key.softBudget() != null && s.periodSpend().compareTo(key.softBudget()) >= 0)
            .put("soft_budget_exceeded_at", s.softBudgetExceededAt() == null ? null
                : Instant.ofEpochMilli(s.softBudgetExceededAt()).toString())
            .put("spend_unwritten", s.unwritten());
        return ok(o);
      });
    });
  }

  private static CompletionStage<HttpResponse> list(KeyService keys, Query q) {
    int limit = intParam(q, "limit", 100, 1, 1000);
    String after = q.get("after").orElse(null);
    return keys.list().thenApply(all -> {
      int from = 0;
      if (after != null) {
        for (int i = 0; i < all.size(); i++) {
          if (all.get(i).id().equals(after)) {
            from = i + 1;
          }
        }
      }
      List<VirtualKey> page = all.subList(Math.min(from, all.size()), Math.min(all.size(), from + limit));
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      page.forEach(k -> data.add(k.toJson()));
      root.put("has_more", from + page.size() < all.size());
      root.put("last_id", page.isEmpty() ? null : page.get(page.size() - 1).id());
      return ok(root);
    });
  }

  /** {@code GET /v1/spend} for a virtual key: its own spend only; another key's id is unknown to it (404). */
  private Route ownSpend(HttpRequest req) {
    String own = GatewayAuth.Caller.of(req).key().id();
    CompletionStage<HttpResponse> resp;
    try {
      resp = spend(auth.keys(), req.getUri().query(), own);
    } catch (RuntimeException e) {
      resp = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(resp.exceptionally(ErrorResponses::of));
  }

  /** The spend report; {@code only}: the one key it may cover (a virtual key asking), null: any. */
  private static CompletionStage<HttpResponse> spend(KeyService keys, Query q, String only) {
    String key = q.get("key").orElse(only);
    if (only != null && !only.equals(key)) {
      throw new LlmException(ErrorKind.NOT_FOUND, "no key '" + key + "'", null, false, "key");
    }
    String team = q.get("team").orElse(null);
    String model = q.get("model").orElse(null);
    LocalDate from = date(q, "from");
    LocalDate to = date(q, "to");
    String groupBy = q.get("group_by").orElse("day");
    if (!List.of("day", "model", "team", "key").contains(groupBy)) {
      throw LlmException.invalidRequest("group_by must be day, model, team or key, not '" + groupBy + "'", "group_by");
    }
    CompletionStage<List<String>> ids = key != null ? CompletableFuture.completedFuture(List.of(key))
        : keys.list().thenApply(all -> all.stream().map(VirtualKey::id).toList());
    return ids.thenCompose(keys::spendRows).thenApply(rows -> {
      Map<String, BigDecimal> groups = new TreeMap<>();
      BigDecimal total = BigDecimal.ZERO;
      for (KeyService.SpendRow r : rows) {
        LocalDate day = LocalDate.parse(r.day());
        if ((team != null && !team.equals(r.team())) || (model != null && !model.equals(r.model()))
            || (from != null && day.isBefore(from)) || (to != null && day.isAfter(to))) {
          continue;
        }
        String g = switch (groupBy) {
          case "model" -> r.model();
          case "team" -> r.team() == null ? "" : r.team();
          case "key" -> r.keyId();
          default -> r.day();
        };
        groups.merge(g, r.spend(), BigDecimal::add);
        total = total.add(r.spend());
      }
      ObjectNode root = Json.object().put("total_spend", total).put("group_by", groupBy);
      ArrayNode data = root.putArray("data");
      groups.forEach((g, v) -> data.addObject().put(groupBy.equals("day") ? "date" : groupBy, g).put("spend", v));
      return ok(root);
    });
  }

  private static CompletionStage<HttpResponse> audit(KeyService keys, Query q) {
    long after = intParam(q, "after", 0, 0, Integer.MAX_VALUE);
    int limit = intParam(q, "limit", 100, 1, 1000);
    return keys.audit(after, limit).thenApply(entries -> {
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      for (AuditEntry e : entries) {
        ObjectNode o = data.addObject().put("seq", e.seq()).put("at", Instant.ofEpochMilli(e.at()).toString())
            .put("actor", e.actor()).put("action", e.action()).put("key_id", e.keyId());
        o.set("before", e.before() == null ? null : e.before().toJson());
        o.set("after", e.after().toJson());
      }
      root.put("last_seq", entries.isEmpty() ? after : entries.get(entries.size() - 1).seq());
      return ok(root);
    });
  }

  private static int intParam(Query q, String name, int dflt, int min, int max) {
    String v = q.get(name).orElse(null);
    if (v == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw LlmException.invalidRequest(name + " must be an integer from " + min + " to " + max + ", not '" + v + "'",
        name);
  }

  private static LocalDate date(Query q, String name) {
    String v = q.get(name).orElse(null);
    if (v == null) {
      return null;
    }
    try {
      return LocalDate.parse(v.trim().length() > 10 ? v.trim().substring(0, 10) : v.trim());
    } catch (DateTimeParseException e) {
      throw LlmException.invalidRequest(name + " must be a date (yyyy-mm-dd), not '" + v + "'", name);
    }
  }

  private static HttpResponse ok(ObjectNode body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(body));
  }
}
