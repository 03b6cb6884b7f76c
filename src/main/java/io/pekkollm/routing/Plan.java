package io.pekkollm.routing;

import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.resilience.ModelGroup;
import java.time.Duration;
import java.util.List;

/**
 * A call ready to run: the caller's request, its group (null for one model), the models it may go to in
 * configured order (a group's strategy orders them per call, see {@link Router#order}), and its response-cache
 * key and TTL (null when the request does not use the cache; calls to a model group are not cached).
 */
public record Plan(ChatRequest request, ModelGroup group, List<Candidate> candidates, String cacheKey,
    Duration cacheTtl) {

  /** What truncation dropped for a single model's call; null for a group (known once a member serves). */
  public TruncationReport truncation() {
    return candidates.size() == 1 ? candidates.get(0).truncation() : null;
  }

  /**
   * The request a journal keeps for this call: for one model, the request as sent (after any truncation) under
   * the caller's {@code provider/model} id; for a group, the caller's request, so a resume goes through the
   * group again.
   */
  public ChatRequest journalRequest() {
    if (group == null) {
      Candidate only = candidates.get(0);
      return only.upstream().toBuilder().model(only.id()).owner(request.owner()).build();
    }
    return request.toBuilder().retry(null).build();
  }

  /** The provider (or group) name the journal files this call under. */
  public String journalProvider() {
    return group == null ? candidates.get(0).route().provider() : group.name();
  }
}
