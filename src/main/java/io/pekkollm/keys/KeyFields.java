package io.pekkollm.keys;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.LlmException;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Reads a key's fields from a create or update body with LiteLLM's names, checking each: a wrong one is an
 * INVALID_REQUEST naming the field (its {@code param}), before anything is written. In an update, a field that
 * is absent keeps its value and {@code null} clears it.
 */
final class KeyFields {
  static final Set<String> FIELDS = Set.of("name", "team", "models", "max_budget", "budget_duration", "soft_budget",
      "rpm_limit", "tpm_limit", "max_parallel_requests", "expires_at", "duration", "metadata");

  private KeyFields() {}

  /**
   * The key {@code body} describes: a new one (id {@code id}) when {@code base} is null, else {@code base}
   * changed by it. {@code knownModel} tells whether an entry of {@code models} names a model or group.
   */
  static VirtualKey read(JsonNode body, VirtualKey base, String id, long now, Predicate<String> knownModel) {
    if (body == null || !body.isObject()) {
      throw LlmException.invalidRequest("the body must be a JSON object of key fields", null);
    }
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw LlmException.invalidRequest("unknown field '" + f + "': the fields are " + new java.util.TreeSet<>(FIELDS), f);
      }
    }
    VirtualKey b = base != null ? base
        : new VirtualKey(id, null, null, List.of(), null, null, null, null, null, null, null, null, null, now, now, null, 0);
    String name = has(body, "name") ? text(body, "name") : b.name();
    String team = has(body, "team") ? text(body, "team") : b.team();
    List<String> models = has(body, "models") ? models(body.get("models"), knownModel) : b.models();
    BigDecimal maxBudget = has(body, "max_budget") ? usd(body, "max_budget") : b.maxBudget();
    String duration = b.budgetDuration();
    if (has(body, "budget_duration")) {
      duration = text(body, "budget_duration");
      if (duration != null) {
        period(duration, "budget_duration");
      }
    }
    BigDecimal soft = has(body, "soft_budget") ? usd(body, "soft_budget") : b.softBudget();
    Integer rpm = has(body, "rpm_limit") ? (Integer) positive(body, "rpm_limit", Integer.MAX_VALUE) : b.rpmLimit();
    Long tpm = has(body, "tpm_limit") ? positiveLong(body, "tpm_limit") : b.tpmLimit();
    Integer parallel = has(body, "max_parallel_requests")
        ? (Integer) positive(body, "max_parallel_requests", Integer.MAX_VALUE) : b.maxParallelRequests();
    Long expires = b.expiresAt();
    if (has(body, "expires_at") && has(body, "duration")) {
      throw LlmException.invalidRequest("send expires_at or duration, not both", "duration");
    }
    if (has(body, "expires_at")) {
      expires = instant(body, "expires_at");
    } else if (has(body, "duration")) {
      String d = text(body, "duration");
      expires = d == null ? null : period(d, "duration").after(now);
    }
    String metadata = b.metadata();
    if (has(body, "metadata")) {
      JsonNode m = body.get("metadata");
      if (!m.isNull() && !m.isObject()) {
        throw LlmException.invalidRequest("metadata must be a JSON object", "metadata");
      }
      metadata = m.isNull() ? null : Json.write(m);
    }
    return new VirtualKey(b.id(), name, team, models, maxBudget, duration, soft, rpm, tpm, parallel, expires, metadata,
        b.prefix(), b.createdAt(), now, b.revokedAt(), b.version());
  }

  private static boolean has(JsonNode body, String field) {
    return body.has(field);
  }

  private static String text(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n.isNull()) {
      return null;
    }
    if (!n.isTextual() || n.asText().isBlank() || n.asText().length() > 256) {
      throw LlmException.invalidRequest(field + " must be a non-empty string of at most 256 characters", field);
    }
    return n.asText().trim();
  }

  private static List<String> models(JsonNode n, Predicate<String> knownModel) {
    if (n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw LlmException.invalidRequest("models must be an array of model ids or group names", "models");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode m : n) {
      if (!m.isTextual() || m.asText().isBlank()) {
        throw LlmException.invalidRequest("models must be an array of model ids or group names", "models");
      }
      if (!knownModel.test(m.asText())) {
        throw LlmException.invalidRequest("models: unknown model or group '" + m.asText()
            + "' (write provider/model with a configured provider, provider/*, or a group name)", "models");
      }
      out.add(m.asText());
    }
    return out;
  }

  private static BigDecimal usd(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n.isNull()) {
      return null;
    }
    if (!n.isNumber() || n.decimalValue().signum() < 0) {
      throw LlmException.invalidRequest(field + " must be a number of USD, 0 or more, not " + n, field);
    }
    return n.decimalValue();
  }

  private static Integer positive(JsonNode body, String field, int max) {
    JsonNode n = body.get(field);
    if (n.isNull()) {
      return null;
    }
    if (!n.isIntegralNumber() || n.asLong() < 1 || n.asLong() > max) {
      throw LlmException.invalidRequest(field + " must be a positive integer, not " + n, field);
    }
    return n.asInt();
  }

  private static Long positiveLong(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n.isNull()) {
      return null;
    }
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 1) {
      throw LlmException.invalidRequest(field + " must be a positive integer, not " + n, field);
    }
    return n.asLong();
  }

  private static BudgetPeriod period(String text, String field) {
    try {
      return BudgetPeriod.parse(text);
    } catch (IllegalArgumentException e) {
      throw LlmException.invalidRequest(field + ": " + e.getMessage(), field);
    }
  }

  private static Long instant(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n.isNull()) {
      return null;
    }
    if (n.isTextual()) {
      try {
        return Instant.parse(n.asText()).toEpochMilli();
      } catch (DateTimeParseException e) {
        try {
          return OffsetDateTime.parse(n.asText()).toInstant().toEpochMilli();
        } catch (DateTimeParseException e2) {
          // fall through to the error below
        }
      }
    }
    throw LlmException.invalidRequest(field + " must be an ISO-8601 instant such as 2030-01-31T00:00:00Z, not " + n,
        field);
  }

  /** The public fields of {@code key} as the admin API writes them (never a secret or hash). */
  static com.fasterxml.jackson.databind.node.ObjectNode json(VirtualKey key) {
    var o = Json.object();
    o.put("id", key.id()).put("key_prefix", key.prefix());
    o.put("name", key.name()).put("team", key.team());
    var models = o.putArray("models");
    key.models().forEach(models::add);
    o.put("max_budget", key.maxBudget()).put("budget_duration", key.budgetDuration())
        .put("soft_budget", key.softBudget()).put("rpm_limit", key.rpmLimit()).put("tpm_limit", key.tpmLimit())
        .put("max_parallel_requests", key.maxParallelRequests());
    o.put("expires_at", key.expiresAt() == null ? null : Instant.ofEpochMilli(key.expiresAt()).toString());
    if (key.metadata() == null) {
      o.putNull("metadata");
    } else {
      try {
        o.set("metadata", Json.parse(key.metadata()));
      } catch (java.io.IOException e) {
        o.put("metadata", key.metadata());
      }
    }
    o.put("created_at", Instant.ofEpochMilli(key.createdAt()).toString())
        .put("updated_at", Instant.ofEpochMilli(key.updatedAt()).toString())
        .put("revoked", key.revokedAt() != null);
    if (key.revokedAt() != null) {
      o.put("revoked_at", Instant.ofEpochMilli(key.revokedAt()).toString());
    }
    return o;
  }
}
