package io.pekkollm.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import io.pekkollm.wire.openai.OpenAiMessages;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The session file format (export, import, and the gateway's session objects). Version 1:
 * <pre>{@code
 * {
 *   "object": "session", "format_version": 1,
 *   "id": "sess_...", "name": "...", "model": "provider/model", "context_strategy": "sliding_window" | "smart" | null,
 *   "created_at": "2025-01-31T12:00:00Z", "updated_at": "...",
 *   "metadata": {"key": "value"},
 *   "usage": {"prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "cache_write_tokens",
 *             "reasoning_tokens"},
 *   "cost": {"input", "cached_input", "cache_write", "output", "reasoning", "total"},       (USD)
 *   "messages": [
 *     {"role": "system" | "user" | "assistant" | "tool", ...OpenAI message fields..., "created_at": "...",
 *      assistant replies also: "model", "usage", "cost", "from_cache", "reasoning_content"}
 *   ]
 * }
 * }</pre>
 * Messages use OpenAI's chat message shape (content as a string or an array of text / image_url parts,
 * {@code tool_calls}, {@code tool_call_id}). On import, {@code id} (a new one when absent), {@code name},
 * {@code metadata}, {@code usage}, {@code cost}, timestamps and the reply fields are optional; {@code model} and
 * {@code messages} are required; unknown fields are ignored. Any other defect rejects the whole file with
 * INVALID_REQUEST naming the field ({@code messages[3].role}). Stateless and thread-safe.
 */
public final class SessionJson {
  /** The format version written, and the only one read. */
  public static final int FORMAT_VERSION = 1;

  private static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  private SessionJson() {}

  /** The session as a JSON document. */
  public static ObjectNode write(Session s) {
    ObjectNode o = Json.object().put("object", "session").put("format_version", FORMAT_VERSION)
        .put("id", s.id()).put("name", s.name()).put("model", s.model())
        .put("context_strategy", s.contextStrategy() == null ? null : s.contextStrategy().wireName())
        .put("created_at", s.createdAt().toString()).put("updated_at", s.updatedAt().toString());
    ObjectNode md = o.putObject("metadata");
    s.metadata().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> md.put(e.getKey(), e.getValue()));
    o.put("message_count", s.messages().size());
    writeUsage(o.putObject("usage"), s.usage());
    writeCost(o.putObject("cost"), s.cost());
    ArrayNode msgs = o.putArray("messages");
    for (SessionMessage m : s.messages()) {
      ObjectNode j = OpenAiMessages.writeMessage(m.message());
      if (m.message() instanceof Message.Assistant a && a.reasoning() != null) {
        j.put("reasoning_content", a.reasoning());
      }
      j.put("created_at", m.createdAt().toString());
      if (m.model() != null) {
        j.put("model", m.model());
      }
      if (m.usage() != null) {
        writeUsage(j.putObject("usage"), m.usage());
      }
      if (m.cost() != null) {
        writeCost(j.putObject("cost"), m.cost());
      }
      if (m.fromCache()) {
        j.put("from_cache", true);
      }
      msgs.add(j);
    }
    return o;
  }

  private static void writeUsage(ObjectNode o, Usage u) {
    Usage v = u == null ? Usage.ZERO : u;
    o.put("prompt_tokens", v.inputTokens()).put("completion_tokens", v.outputTokens())
        .put("total_tokens", v.totalTokens()).put("cached_tokens", v.cachedInputTokens())
        .put("cache_write_tokens", v.cacheWriteTokens()).put("reasoning_tokens", v.reasoningTokens());
  }

  private static void writeCost(ObjectNode o, Cost c) {
    Cost v = c == null ? Cost.ZERO : c;
    // Plain notation: a tiny cost would otherwise be written as 7.5E-8.
    o.putRawValue("input", new RawValue(v.input().toPlainString()));
    o.putRawValue("cached_input", new RawValue(v.cachedInput().toPlainString()));
    o.putRawValue("cache_write", new RawValue(v.cacheWrite().toPlainString()));
    o.putRawValue("output", new RawValue(v.output().toPlainString()));
    o.putRawValue("reasoning", new RawValue(v.reasoning().toPlainString()));
    o.putRawValue("total", new RawValue(v.total().toPlainString()));
  }

  /**
   * Reads a session file. The result's id is the file's (null when it has none); {@code now} stands in for
   * missing timestamps. Throws {@link LlmException} INVALID_REQUEST naming the first defect.
   */
  public static Session read(JsonNode root, Instant now) {
    if (root == null || !root.isObject()) {
      throw invalid("the file must be a JSON object (a session export)", null);
    }
    JsonNode version = root.get("format_version");
    if (version != null && !version.isNull() && (!version.isIntegralNumber() || version.asInt() != FORMAT_VERSION)) {
      throw invalid("format_version " + version + " is not supported; this version reads " + FORMAT_VERSION,
          "format_version");
    }
    String id = optText(root, "id");
    if (id != null && !SessionIds.isValid(id)) {
      throw invalid("id '" + id + "' is not a valid session id (" + SessionIds.RULE + ")", "id");
    }
    String model = optText(root, "model");
    if (model == null || model.indexOf('/') <= 0 || model.endsWith("/")) {
      throw invalid("model is required and must be provider/model, e.g. openai/gpt-4o-mini", "model");
    }
    String name = optText(root, "name");
    String strategy = optText(root, "context_strategy");
    TruncationStrategy contextStrategy;
    try {
      contextStrategy = strategy == null || strategy.isEmpty() ? null : TruncationStrategy.of(strategy);
    } catch (LlmException e) {
      throw invalid("context_strategy must be sliding_window, smart or null, not '" + strategy + "'",
          "context_strategy");
    }
    Map<String, String> metadata = metadata(root.get("metadata"), "metadata");
    Instant createdAt = instant(root, "created_at", now);
    Instant updatedAt = instant(root, "updated_at", createdAt);
    JsonNode msgs = root.get("messages");
    if (msgs == null || !msgs.isArray()) {
      throw invalid("messages is required: an array of messages (it may be empty)", "messages");
    }
    List<SessionMessage> messages = new ArrayList<>(msgs.size());
    for (int i = 0; i < msgs.size(); i++) {
      messages.add(message(msgs.get(i), "messages[" + i + "]", createdAt));
    }
    Usage usage = usage(root.get("usage"), "usage");
    Cost cost = cost(root.get("cost"), "cost");
    return new Session(id, name == null ? "" : name, model, contextStrategy, metadata, messages,
        usage == null ? Usage.ZERO : usage, cost == null ? Cost.ZERO : cost, createdAt, updatedAt, null);
  }

  private static SessionMessage message(JsonNode m, String path, Instant fallbackTime) {
    if (m == null || !m.isObject()) {
      throw invalid(path + " must be an object with role and content", path);
    }
    JsonNode role = m.get("role");
    if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
      throw invalid(path + ".role must be one of system, user, assistant, tool", path + ".role");
    }
    Message msg;
    try {
      msg = OpenAiMessages.readMessage(m, path);
    } catch (LlmException e) {
      throw invalid(e.getMessage(), e.param());
    }
    Instant at = instant(m, "created_at", fallbackTime, path + ".created_at");
    if (!(msg instanceof Message.Assistant a)) {
      return SessionMessage.of(msg, at);
    }
    String reasoning = optText(m, "reasoning_content");
    if (reasoning != null) {
      msg = new Message.Assistant(a.content(), a.toolCalls(), reasoning);
    }
    String model = optText(m, "model");
    JsonNode fromCache = m.get("from_cache");
    if (fromCache != null && !fromCache.isNull() && !fromCache.isBoolean()) {
      throw invalid(path + ".from_cache must be a boolean", path + ".from_cache");
    }
    return new SessionMessage(msg, at, model, usage(m.get("usage"), path + ".usage"), cost(m.get("cost"), path + ".cost"),
        fromCache != null && fromCache.asBoolean(false));
  }

  private static Usage usage(JsonNode u, String path) {
    if (u == null || u.isNull()) {
      return null;
    }
    if (!u.isObject()) {
      throw invalid(path + " must be an object of token counts", path);
    }
    return new Usage(count(u, "prompt_tokens", path), count(u, "completion_tokens", path),
        count(u, "cached_tokens", path), count(u, "cache_write_tokens", path), count(u, "reasoning_tokens", path));
  }

  private static int count(JsonNode o, String field, String path) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      return 0;
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0) {
      throw invalid(path + "." + field + " must be a non-negative integer", path + "." + field);
    }
    return v.asInt();
  }

  private static Cost cost(JsonNode c, String path) {
    if (c == null || c.isNull()) {
      return null;
    }
    if (!c.isObject()) {
      throw invalid(path + " must be an object of USD amounts", path);
    }
    return Cost.of(amount(c, "input", path), amount(c, "cached_input", path), amount(c, "cache_write", path),
        amount(c, "output", path), amount(c, "reasoning", path));
  }

  private static BigDecimal amount(JsonNode o, String field, String path) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      return BigDecimal.ZERO;
    }
    if (!v.isNumber() || v.decimalValue().signum() < 0) {
      throw invalid(path + "." + field + " must be a non-negative number", path + "." + field);
    }
    return v.decimalValue();
  }

  private static Map<String, String> metadata(JsonNode md, String path) {
    if (md == null || md.isNull()) {
      return Map.of();
    }
    if (!md.isObject()) {
      throw invalid(path + " must be an object of strings", path);
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : md.properties()) {
      if (!e.getValue().isTextual()) {
        throw invalid(path + "." + e.getKey() + " must be a string", path + "." + e.getKey());
      }
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  private static Instant instant(JsonNode o, String field, Instant fallback) {
    return instant(o, field, fallback, field);
  }

  private static Instant instant(JsonNode o, String field, Instant fallback, String path) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      return fallback;
    }
    try {
      if (!v.isTextual()) {
        throw new DateTimeParseException("not a string", v.toString(), 0);
      }
      return Instant.parse(v.asText());
    } catch (DateTimeParseException e) {
      throw invalid(path + " must be an ISO-8601 UTC timestamp like 2025-01-31T12:00:00Z, not " + v, path);
    }
  }

  private static String optText(JsonNode o, String field) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw invalid(field + " must be a string", field);
    }
    return v.asText();
  }

  private static LlmException invalid(String what, String param) {
    return new LlmException(ErrorKind.INVALID_REQUEST, "invalid session file: " + what, null, false, param);
  }
}
