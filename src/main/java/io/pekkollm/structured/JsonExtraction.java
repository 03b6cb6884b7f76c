package io.pekkollm.structured;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the JSON value in a model's answer: the whole text, else the first markdown code fence that parses
 * ({@code ```json ... ```} or a bare fence), else the first JSON object or array that starts in the text and
 * parses (prose before and after it is ignored).
 */
final class JsonExtraction {
  private static final Pattern FENCE = Pattern.compile("```[a-zA-Z0-9_-]*\\s*\\n(.*?)```", Pattern.DOTALL);

  private JsonExtraction() {}

  /** The JSON value of {@code text}, or null when there is none. */
  static JsonNode extract(String text) {
    if (text == null || text.isBlank()) {
      return null;
    }
    JsonNode whole = first(text.strip(), true);
    if (whole != null) {
      return whole;
    }
    Matcher m = FENCE.matcher(text);
    while (m.find()) {
      JsonNode fenced = first(m.group(1).strip(), true);
      if (fenced != null) {
        return fenced;
      }
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '{' || c == '[') {
        JsonNode found = first(text.substring(i), false);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  /** The first JSON value of {@code text}; with {@code whole}, only when nothing but whitespace follows it. */
  private static JsonNode first(String text, boolean whole) {
    try (JsonParser p = Json.MAPPER.createParser(text)) {
      JsonNode node = Json.MAPPER.readTree(p);
      if (node == null || node.isMissingNode()) {
        return null;
      }
      if (whole && p.nextToken() != null) {
        return null;
      }
      return node.isContainerNode() || whole ? node : null;
    } catch (IOException e) {
      return null;
    }
  }
}
