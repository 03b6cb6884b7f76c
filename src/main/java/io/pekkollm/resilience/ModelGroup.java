package io.pekkollm.resilience;

import java.util.List;

/**
 * A named list of {@code provider/model} ids that a caller addresses by the name alone (model {@code "fast"}),
 * tried in the order of its {@link RoutingStrategy}: the next one serves when one fails with a retryable
 * error, its breaker is open, its queue is full, its quota is used up, or the request does not fit its context
 * window. A group of one model is an alias. Immutable.
 *
 * @param name     what callers send as the model; no {@code /}
 * @param strategy how the models are ordered per call
 * @param models   {@code provider/model} ids, at least one
 */
public record ModelGroup(String name, RoutingStrategy strategy, List<String> models) {

  public ModelGroup {
    models = List.copyOf(models);
    if (name == null || name.isBlank() || name.contains("/")) {
      throw new IllegalArgumentException("a model group name must be non-empty and contain no '/': '" + name + "'");
    }
    if (models.isEmpty()) {
      throw new IllegalArgumentException("model group '" + name + "' lists no models");
    }
    for (String m : models) {
      int slash = m.indexOf('/');
      if (slash <= 0 || slash == m.length() - 1) {
        throw new IllegalArgumentException("model group '" + name + "' lists '" + m
            + "': every member must be provider/model, e.g. openai/gpt-4o-mini");
      }
    }
  }
}
