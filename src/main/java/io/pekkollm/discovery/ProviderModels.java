package io.pekkollm.discovery;

import io.pekkollm.model.ModelInfo;
import java.time.Instant;
import java.util.List;

/**
 * One provider's models as discovery knows them: {@code source} says whether they come from its API (fresh
 * within the TTL), from an earlier API answer kept because the latest listing failed ({@link Source#STALE}), or
 * from the static catalog because the API has never answered ({@link Source#CATALOG}). {@code fetchedAt} is when
 * the listing was made; {@code error} the failure's message for STALE and CATALOG, else null.
 */
public record ProviderModels(String provider, List<ModelInfo> models, Source source, Instant fetchedAt, String error) {

  public ProviderModels {
    models = List.copyOf(models);
  }

  /** Where the models come from. */
  public enum Source { API, STALE, CATALOG }
}
