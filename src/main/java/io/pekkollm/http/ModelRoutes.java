package io.pekkollm.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.resilience.ModelGroup;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * {@code GET /v1/models} (OpenAI's list shape, with catalog metadata per model and the model groups) and
 * {@code GET /v1/models/{provider}/{model}}; with an {@code anthropic-version} header both answer in Anthropic's
 * shapes ({@link #listAnthropic}, {@link #oneAnthropic}).
 */
final class ModelRoutes {
  private final LlmClient client;

  ModelRoutes(LlmClient client) {
    this.client = client;
  }

  /**
   * The models of every enabled provider as its API lists them (kept for a TTL by model discovery), each with
   * its catalog metadata (null values for models the catalog does not know). An enabled provider whose listing
   * fails or gives nothing (no list endpoint, unreachable) is represented by its catalog models instead, so its
   * known models can still be discovered.
   */
  CompletionStage<HttpResponse> list() {
    return models().thenApply(models -> {
      ObjectNode root = Json.object().put("object", "list");
      ArrayNode data = root.putArray("data");
      for (ModelInfo m : models) {
        data.add(modelObject(m.id(), m.created(), m.ownedBy() == null ? m.provider() : m.ownedBy(),
            client.catalog().find(m.id()).orElse(null)));
      }
      client.routing().groups().values().stream().sorted(Comparator.comparing(ModelGroup::name))
          .forEach(g -> data.add(groupObject(g)));
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(root));
    });
  }

  /** The models of every enabled provider, by id: as listed, or the catalog's for a provider that lists none. */
  private CompletionStage<List<ModelInfo>> models() {
    return client.discoverModels().thenApply(listed -> {
      List<ModelInfo> models = new ArrayList<>(listed);
      Set<String> providersListed = new HashSet<>();
      listed.forEach(m -> providersListed.add(m.provider()));
      for (String provider : client.enabledProviderNames()) {
        if (!providersListed.contains(provider)) {
          for (ModelEntry e : client.catalog().models(provider)) {
            models.add(new ModelInfo(e.id(), provider, 0, provider));
          }
        }
      }
      models.sort(Comparator.comparing(ModelInfo::id));
      return models;
    });
  }

  /**
   * {@code GET /v1/models} as Anthropic's API answers it (for a request with {@code anthropic-version}): {@code
   * {"data": [{"type": "model", "id", "display_name", "created_at"}], "has_more", "first_id", "last_id"}}, the same
   * models and groups as the OpenAI list, in the same order, paged by {@code limit} (1 to 1000, default 20),
   * {@code after_id} and {@code before_id}. Errors are Anthropic's error body.
   */
  CompletionStage<HttpResponse> listAnthropic(HttpRequest req) {
    int limit;
    try {
      limit = anthropicLimit(req.getUri().query().get("limit").orElse(null));
    } catch (LlmException e) {
      return CompletableFuture.completedFuture(ErrorResponses.anthropic(e));
    }
    String after = req.getUri().query().get("after_id").orElse(null);
    String before = req.getUri().query().get("before_id").orElse(null);
    return models().thenApply(models -> {
      List<ObjectNode> all = new ArrayList<>(models.size());
      models.forEach(m -> all.add(anthropicModel(m.id(), m.created())));
      client.routing().groups().values().stream().sorted(Comparator.comparing(ModelGroup::name))
          .forEach(g -> all.add(anthropicModel(g.name(), 0)));
      int from = 0;
      int to = all.size();
      if (after != null) {
        from = indexOf(all, after, "after_id") + 1;
        to = Math.min(all.size(), from + limit);
      } else if (before != null) {
        to = indexOf(all, before, "before_id");
        from = Math.max(0, to - limit);
      } else {
        to = Math.min(all.size(), limit);
      }
      List<ObjectNode> page = all.subList(from, to);
      ObjectNode root = Json.object();
      ArrayNode data = root.putArray("data");
      page.forEach(data::add);
      root.put("has_more", before != null ? from > 0 : to < all.size());
      root.put("first_id", page.isEmpty() ? null : page.get(0).path("id").asText());
      root.put("last_id", page.isEmpty() ? null : page.get(page.size() - 1).path("id").asText());
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(root));
    }).exceptionally(ErrorResponses::anthropic);
  }

  /**
   * {@code GET /v1/models/{id}} in Anthropic's shape: a listed model or group, or a bare id the catalog resolves
   * ({@code claude-sonnet-4-5}); a 404 in Anthropic's error shape otherwise.
   */
  CompletionStage<HttpResponse> oneAnthropic(String id) {
    return models().thenApply(models -> {
      String resolved;
      try {
        resolved = client.resolveModel(id);
      } catch (LlmException e) {
        resolved = id;
      }
      for (String candidate : List.of(id, resolved)) {
        for (ModelInfo m : models) {
          if (m.id().equals(candidate)) {
            return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
                Json.writeBytes(anthropicModel(m.id(), m.created())));
          }
        }
        if (client.routing().group(candidate).isPresent()) {
          return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
              Json.writeBytes(anthropicModel(candidate, 0)));
        }
      }
      return ErrorResponses.anthropic(new LlmException(ErrorKind.MODEL_NOT_FOUND, "model: " + id
          + " (no enabled provider lists it; use provider/model, e.g. anthropic/claude-sonnet-4-5)", null, false,
          "model"));
    }).exceptionally(ErrorResponses::anthropic);
  }

  private static int anthropicLimit(String limit) {
    if (limit == null) {
      return 20;
    }
    try {
      int n = Integer.parseInt(limit.trim());
      if (n >= 1 && n <= 1000) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw LlmException.invalidRequest("limit: must be a whole number from 1 to 1000, not '" + limit + "'", "limit");
  }

  private static int indexOf(List<ObjectNode> all, String id, String param) {
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).path("id").asText().equals(id)) {
        return i;
      }
    }
    throw LlmException.invalidRequest(param + ": '" + id + "' is not a model id of this list", param);
  }

  /**
   * One model in Anthropic's shape; with what the catalog knows: {@code max_input_tokens} (the context window),
   * {@code max_tokens}, and {@code lifecycle} deprecated once its deprecation date has come.
   */
  private ObjectNode anthropicModel(String id, long created) {
    // No display names in the catalog: the id is what a user picks and recognizes.
    ObjectNode o = Json.object().put("type", "model").put("id", id).put("display_name", id)
        .put("created_at", java.time.Instant.ofEpochSecond(Math.max(0, created)).toString());
    ModelEntry entry = client.catalog().find(id).orElse(null);
    java.time.LocalDate deprecated = entry == null ? null : entry.deprecationDate().orElse(null);
    boolean past = deprecated != null && !deprecated.isAfter(java.time.LocalDate.now(java.time.ZoneOffset.UTC));
    o.put("lifecycle", past ? "deprecated" : "active");
    if (past) {
      o.put("deprecated_at", deprecated.atStartOfDay(java.time.ZoneOffset.UTC).toInstant().toString());
    }
    if (entry != null) {
      entry.contextWindow().ifPresent(n -> o.put("max_input_tokens", n));
      entry.maxOutputTokens().ifPresent(n -> o.put("max_tokens", n));
    }
    return o;
  }

  private static ObjectNode modelObject(String id, long created, String ownedBy, ModelEntry entry) {
    ObjectNode o = Json.object().put("id", id).put("object", "model").put("created", created)
        .put("owned_by", ownedBy);
    return CatalogJson.addMetadata(o, entry);
  }

  /** A model group in the models list: addressed by its name, with its strategy and members. */
  private static ObjectNode groupObject(ModelGroup g) {
    ObjectNode o = Json.object().put("id", g.name()).put("object", "model").put("created", 0)
        .put("owned_by", "pekko-llm");
    ObjectNode group = o.putObject("group").put("strategy", g.strategy().configName());
    ArrayNode members = group.putArray("models");
    g.models().forEach(members::add);
    return o;
  }

  /** The model id after {@code /v1/models/}, from the decoded path segments (ids contain slashes). */
  static String modelId(HttpRequest req) {
    List<String> segments = new ArrayList<>();
    req.getUri().pathSegments().forEach(segments::add);
    int models = segments.indexOf("models");
    return String.join("/", segments.subList(models + 1, segments.size()));
  }

  /**
   * One model of an enabled provider: from the catalog (aliases resolve), else from the provider's own list
   * with unknown metadata; 404 in OpenAI's error shape otherwise.
   */
  CompletionStage<HttpResponse> one(String id) {
    Optional<ModelGroup> group = id.indexOf('/') < 0 ? client.routing().group(id) : Optional.empty();
    if (group.isPresent()) {
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
          Json.writeBytes(groupObject(group.get()))));
    }
    int slash = id.indexOf('/');
    String provider = slash > 0 ? id.substring(0, slash) : id;
    if (slash <= 0 || slash == id.length() - 1 || !client.enabledProviderNames().contains(provider)) {
      return CompletableFuture.completedFuture(notFound(id, slash <= 0 ? "use provider/model, e.g. mock/echo"
          : "provider '" + provider + "' is not configured or not enabled"));
    }
    Optional<ModelEntry> entry = client.catalog().find(id);
    if (entry.isPresent()) {
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
          Json.writeBytes(modelObject(id, 0, provider, entry.get()))));
    }
    return client.modelDiscovery().models(provider)
        .handle((list, err) -> {
          Optional<ModelInfo> listed = err != null ? Optional.empty()
              : list.models().stream().filter(m -> m.id().equals(id)).findFirst();
          return listed.map(m -> HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
                  Json.writeBytes(modelObject(id, m.created(), m.ownedBy() == null ? provider : m.ownedBy(), null))))
              .orElseGet(() -> notFound(id, "neither the model catalog nor the provider lists it"));
        });
  }

  private static HttpResponse notFound(String id, String why) {
    return ErrorResponses.of(new LlmException(ErrorKind.MODEL_NOT_FOUND, "the model '" + id
        + "' does not exist: " + why, null, false, "model"));
  }
}
