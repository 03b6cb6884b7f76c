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
 * {@code GET /v1/models/{provider}/{model}}.
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
