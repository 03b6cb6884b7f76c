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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.admin.RuntimeProviders;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API under {@code /v1/admin}, for the admin key only (the master key when one is set, else the gateway
 * key): {@code GET provider-templates}; {@code POST provider-templates/{t}/models} and {@code .../test} (a wizard's
 * form, {@code {"config", "model"?}}, before it is saved); {@code GET|POST providers}; {@code GET|PATCH|DELETE
 * providers/{id}}; {@code GET providers/{id}/models}, {@code POST providers/{id}/refresh-models} and {@code POST
 * providers/{id}/test} ({@code {"model"?}}); {@code GET streams}, the latest streams this node answered (the live view).
 * See {@link RuntimeProviders}. Errors are OpenAI's error body.
 */
final class AdminRoutes {
  private final GatewayAuth auth;
  private final RequestBodies bodies;
  private final Supplier<RuntimeProviders> providers;
  private final RecentStreams recent;
  private final StreamRoutes streams;

  AdminRoutes(GatewayAuth auth, RequestBodies bodies, Supplier<RuntimeProviders> providers, RecentStreams recent,
      StreamRoutes streams) {
    this.auth = auth;
    this.bodies = bodies;
    this.providers = providers;
    this.recent = recent;
    this.streams = streams;
  }

  /** The routes under {@code /v1}, for requests that passed the key check. */
  Route route() {
    return pathPrefix("admin", () -> extractRequest(req -> concat(
        path("provider-templates", () -> get(() -> admin(req, () -> {
          ObjectNode root = Json.object();
          ArrayNode data = root.putArray("data");
          providers.get().templates().all().forEach(t -> data.add(t.toJson()));
          return CompletableFuture.completedFuture(root);
        }))),
        path(segment("provider-templates").slash(segment()).slash("models"), t ->
            post(() -> admin(req, () -> body(req).thenCompose(b -> providers.get().previewModels(t, b))))),
        path(segment("provider-templates").slash(segment()).slash("test"), t ->
            post(() -> admin(req, () -> body(req).thenCompose(b -> providers.get().previewTest(t, b))))),
        path("streams", () -> get(() -> admin(req, this::recentStreams))),
        path("providers", () -> concat(
            get(() -> admin(req, () -> providers.get().list().thenApply(l -> {
              ObjectNode root = Json.object().put("object", "list");
              root.putArray("data").addAll(l);
              return root;
            }))),
            post(() -> admin(req, () -> body(req).thenCompose(b -> providers.get().create(b)))))),
        path(segment("providers").slash(segment()).slash("models"), id ->
            get(() -> admin(req, () -> providers.get().models(id, false)))),
        path(segment("providers").slash(segment()).slash("refresh-models"), id ->
            post(() -> admin(req, () -> providers.get().models(id, true)))),
        path(segment("providers").slash(segment()).slash("test"), id ->
            post(() -> admin(req, () -> body(req).thenCompose(b -> providers.get().test(id, b))))),
        path(segment("providers").slash(segment()), id -> concat(
            get(() -> admin(req, () -> providers.get().get(id))),
            patch(() -> admin(req, () -> body(req).thenCompose(b -> providers.get().update(id, b)))),
            delete(() -> admin(req, () -> providers.get().delete(id))))))));
  }

  /** The latest streams this node answered, newest first, each as {@code GET /v1/streams/{id}} shows it. */
  private CompletionStage<ObjectNode> recentStreams() {
    List<CompletableFuture<java.util.Optional<ObjectNode>>> parts = new java.util.ArrayList<>();
    recent.latest(50).forEach(id -> parts.add(streams.statusJson(id).toCompletableFuture()
        .exceptionally(err -> java.util.Optional.empty())));
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      parts.forEach(p -> p.join().ifPresent(data::add));
      return root;
    });
  }

  /** The body as a JSON object (an empty body is an empty object); anything else is a 400. */
  private CompletionStage<JsonNode> body(HttpRequest req) {
    return bodies.readJson(req).thenApply(b -> {
      if (!b.isObject()) {
        throw LlmException.invalidRequest("the body must be a JSON object", null);
      }
      return b;
    });
  }

  private Route admin(HttpRequest req, Supplier<CompletionStage<? extends JsonNode>> handler) {
    GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
    boolean allowed = auth.keysEnabled() ? caller.admin() : caller.key() == null;
    if (!allowed) {
      return completeWithFuture(auth.refused(req, ErrorResponses.of(new LlmException(
          ErrorKind.PERMISSION, "the admin API needs the admin key: PEKKO_LLM_MASTER_KEY (or PEKKO_LLM_API_KEY when "
              + "no master key is set)"))));
    }
    CompletionStage<? extends JsonNode> resp;
    try {
      resp = handler.get();
    } catch (RuntimeException e) {
      resp = CompletableFuture.failedFuture(e);
    }
    return completeWithFuture(resp.<HttpResponse>thenApply(AdminRoutes::ok).exceptionally(ErrorResponses::of));
  }

  private static HttpResponse ok(JsonNode body) {
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(body));
  }
}
