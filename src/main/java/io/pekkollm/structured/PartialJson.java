package io.pekkollm.structured;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Builds a JSON value as its text arrives in pieces, on Jackson's non-blocking parser: after each piece,
 * {@link #feed} gives a copy of the value so far when it grew, holding only complete members: a string, number
 * or literal appears once its last character is in, an object or array as soon as it opens (with the members
 * complete so far). Text before the first {@code {} or {@code [} (prose, a markdown fence) is skipped, and
 * everything after the value closes is ignored. Text that is not JSON ends the partial values (the final answer
 * is still checked as a whole). Not thread-safe: one instance per answer.
 */
final class PartialJson {
  private final JsonParser parser;
  private final ByteArrayFeeder feeder;
  private final Deque<ContainerNode<?>> open = new ArrayDeque<>();
  private ContainerNode<?> root;
  private String field;
  private boolean started;
  private boolean finished;
  /** A high surrogate that ended the last piece: encoded with the low one that starts the next. */
  private char heldSurrogate;

  PartialJson() {
    try {
      parser = Json.MAPPER.getFactory().createNonBlockingByteArrayParser();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
  }

  /** Adds {@code text}; returns a copy of the value when it grew, else null. */
  JsonNode feed(String text) {
    if (finished || text.isEmpty()) {
      return null;
    }
    if (!started) {
      int i = 0;
      while (i < text.length() && text.charAt(i) != '{' && text.charAt(i) != '[') {
        i++;
      }
      if (i == text.length()) {
        return null;
      }
      started = true;
      text = text.substring(i);
    }
    if (heldSurrogate != 0) {
      text = heldSurrogate + text;
      heldSurrogate = 0;
    }
    if (Character.isHighSurrogate(text.charAt(text.length() - 1))) {
      heldSurrogate = text.charAt(text.length() - 1);
      text = text.substring(0, text.length() - 1);
    }
    boolean grew = false;
    try {
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      feeder.feedInput(bytes, 0, bytes.length);
      JsonToken t;
      while (!finished && (t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
        grew |= accept(t);
      }
    } catch (IOException e) {
      finished = true;
    }
    return grew && root != null ? root.deepCopy() : null;
  }

  /** Takes one token; true when the value grew by it. */
  private boolean accept(JsonToken t) throws IOException {
    switch (t) {
      case FIELD_NAME -> {
        field = parser.currentName();
        return false;
      }
      case START_OBJECT, START_ARRAY -> {
        ContainerNode<?> node = t == JsonToken.START_OBJECT ? JsonNodeFactory.instance.objectNode()
            : JsonNodeFactory.instance.arrayNode();
        if (root == null) {
          root = node;
        } else {
          attach(node);
        }
        open.push(node);
        return true;
      }
      case END_OBJECT, END_ARRAY -> {
        open.pop();
        finished = open.isEmpty();
        return false;
      }
      default -> {
        if (open.isEmpty()) {
          return false;
        }
        JsonNode value = switch (t) {
          case VALUE_STRING -> JsonNodeFactory.instance.textNode(parser.getText());
          // The node types readTree would make, so a partial value equals the same JSON read whole.
          case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
            case INT -> JsonNodeFactory.instance.numberNode(parser.getIntValue());
            case LONG -> JsonNodeFactory.instance.numberNode(parser.getLongValue());
            default -> JsonNodeFactory.instance.numberNode(parser.getBigIntegerValue());
          };
          case VALUE_NUMBER_FLOAT -> JsonNodeFactory.instance.numberNode(parser.getDoubleValue());
          case VALUE_TRUE -> JsonNodeFactory.instance.booleanNode(true);
          case VALUE_FALSE -> JsonNodeFactory.instance.booleanNode(false);
          default -> JsonNodeFactory.instance.nullNode();
        };
        attach(value);
        return true;
      }
    }
  }

  private void attach(JsonNode value) {
    ContainerNode<?> parent = open.peek();
    if (parent instanceof ObjectNode o) {
      o.set(field, value);
    } else {
      ((ArrayNode) parent).add(value);
    }
  }
}
