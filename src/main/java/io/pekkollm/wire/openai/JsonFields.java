package io.pekkollm.wire.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.LlmException;

/**
 * Readers of one field of a JSON object in OpenAI's request shapes, each failing with an {@link LlmException}
 * of kind INVALID_REQUEST that names the field ({@code param}) and says what it must be. Absent and
 * {@code null} read as null. Stateless and thread-safe.
 */
public final class JsonFields {
  private JsonFields() {}

  /** A string that must be there. */
  public static String requireText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      throw LlmException.invalidRequest("'" + field + "' is required", field);
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest("'" + field + "' must be a string", field);
    }
    return v.asText();
  }

  /** A string, or null. */
  public static String optText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest("'" + field + "' must be a string", field);
    }
    return v.asText();
  }

  /** A number, or null. */
  public static Double optDouble(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw LlmException.invalidRequest("'" + field + "' must be a number, not " + v.getNodeType().name().toLowerCase(),
          field);
    }
    return v.asDouble();
  }

  /** A number in {@code [min, max]}; infinity and NaN are never in range. */
  public static Double optDouble(JsonNode body, String field, double min, double max) {
    Double v = optDouble(body, field);
    if (v != null && !(v >= min && v <= max)) {
      throw LlmException.invalidRequest("'" + field + "' must be a finite number between " + plain(min) + " and "
          + plain(max) + (Double.isFinite(v) ? ", not " + body.get(field).asText() : ""), field);
    }
    return v;
  }

  private static String plain(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  /** An integer of at least 1, or null. */
  public static Integer optPositiveInt(JsonNode body, String field) {
    Integer v = optInt(body, field);
    if (v != null && v < 1) {
      throw LlmException.invalidRequest("'" + field + "' must be at least 1", field);
    }
    return v;
  }

  /** An integer that fits an {@code int}, or null. */
  public static Integer optInt(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw LlmException.invalidRequest("'" + field + "' must be an integer", field);
    }
    return v.asInt();
  }

  /** An integer that fits a {@code long}, or null. */
  public static Long optLong(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw LlmException.invalidRequest("'" + field + "' must be an integer", field);
    }
    return v.asLong();
  }

  /** {@code true} or {@code false}, or null. */
  public static Boolean optBool(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw LlmException.invalidRequest("'" + field + "' must be true or false", field);
    }
    return v.asBoolean();
  }
}
