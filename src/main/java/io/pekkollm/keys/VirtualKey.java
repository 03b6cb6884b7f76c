package io.pekkollm.keys;

import io.pekkollm.util.JsonSerializable;
import java.math.BigDecimal;
import java.util.List;
import java.util.function.Function;

/**
 * A virtual key as listings, the audit log and the Java API show it: everything but its secret (which is never
 * stored, only its salted hash, and is shown once when the key is created or rotated). Field names follow
 * LiteLLM's. Null limits are no limits; an empty {@code models} allows every model. Immutable.
 *
 * @param id the key's id (also inside its secret, {@code sk-<id>-...}); what logs and metrics name
 * @param name a unique name, or null
 * @param team the team its spend is charged to as well, or null
 * @param models the allowed {@code provider/model} ids, group names, or {@code provider/*}; empty: all
 * @param maxBudget the budget in USD per {@code budgetDuration} (for the key's life without one), or null
 * @param budgetDuration the budget's reset period ({@code 1d}, {@code 30d}, {@code 1mo}, ...), or null
 * @param softBudget spend in USD above which {@code soft_budget_exceeded} is reported, or null
 * @param rpmLimit requests per minute (per gateway node), or null
 * @param tpmLimit tokens per minute (per gateway node), or null
 * @param maxParallelRequests requests at once (per gateway node), or null
 * @param expiresAt when the key stops working (epoch ms), or null
 * @param metadata the caller's JSON object, as text, or null
 * @param prefix the first characters of the secret, to recognise it ({@code sk-<id>-abcd})
 * @param createdAt creation time, epoch ms (budget periods are counted from it)
 * @param updatedAt the last change, epoch ms
 * @param revokedAt when it was revoked (epoch ms), or null
 * @param version incremented on every change
 */
public record VirtualKey(String id, String name, String team, List<String> models, BigDecimal maxBudget,
    String budgetDuration, BigDecimal softBudget, Integer rpmLimit, Long tpmLimit, Integer maxParallelRequests,
    Long expiresAt, String metadata, String prefix, long createdAt, long updatedAt, Long revokedAt, int version)
    implements JsonSerializable {

  public VirtualKey {
    models = models == null ? List.of() : List.copyOf(models);
  }

  /** Whether the key still works at {@code nowMillis}: not revoked, not expired. */
  public boolean activeAt(long nowMillis) {
    return revokedAt == null && (expiresAt == null || nowMillis < expiresAt);
  }

  /**
   * Whether the key may call {@code model}: its list is empty, names the model or a group whose members
   * ({@code groupMembers}) include it, or has {@code provider/*} for its provider.
   */
  public boolean allows(String model, Function<String, List<String>> groupMembers) {
    if (models.isEmpty()) {
      return true;
    }
    for (String m : models) {
      if (m.equals(model) || (m.endsWith("/*") && model.startsWith(m.substring(0, m.length() - 1)))
          || groupMembers.apply(m).contains(model)) {
        return true;
      }
    }
    return false;
  }

  /** The public fields as the admin API writes them, with LiteLLM's names (never a secret or hash). */
  public com.fasterxml.jackson.databind.node.ObjectNode toJson() {
    return KeyFields.json(this);
  }

  BudgetPeriod period() {
    return budgetDuration == null ? null : BudgetPeriod.parse(budgetDuration);
  }

  VirtualKey changed(long at) {
    return new VirtualKey(id, name, team, models, maxBudget, budgetDuration, softBudget, rpmLimit, tpmLimit,
        maxParallelRequests, expiresAt, metadata, prefix, createdAt, at, revokedAt, version + 1);
  }

  VirtualKey withPrefix(String value) {
    return new VirtualKey(id, name, team, models, maxBudget, budgetDuration, softBudget, rpmLimit, tpmLimit,
        maxParallelRequests, expiresAt, metadata, value, createdAt, updatedAt, revokedAt, version);
  }

  VirtualKey revoked(long at) {
    return new VirtualKey(id, name, team, models, maxBudget, budgetDuration, softBudget, rpmLimit, tpmLimit,
        maxParallelRequests, expiresAt, metadata, prefix, createdAt, updatedAt, at, version);
  }
}
