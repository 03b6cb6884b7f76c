package io.pekkollm.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;

/** Test helpers for SSE: parse a whole body into events, build OpenAI-format upstream streams. */
public final class Sse {
  private Sse() {}

  /** One event: {@code type} null for plain data events, {@code id} null when absent. */
  public record Event(String type, String id, String data) {
    public JsonNode json() {
      try {
        return Json.parse(data);
      } catch (java.io.IOException e) {
        throw new AssertionError("not JSON: " + data, e);
      }
    }

    /** The content delta of an OpenAI chunk event ("" when none). */
    public String content() {
      JsonNode c = json().at("/choices/0/delta/content");
      return c.isMissingNode() || c.isNull() ? "" : c.asText();
    }
  }

  /**
   * The text a client holds after resuming: the first {@code kept_chars} code points of what it had ({@code had},
   * last event id {@code lastId}), then the content of each event of the resume's SSE {@code body}, whose ids must
   * follow {@code lastId} one by one (no gap, no duplicate).
   */
  public static String joinResumed(String had, String lastId, String body) {
    List<Event> events = parse(body);
    org.junit.jupiter.api.Assertions.assertEquals("recovery", events.get(0).type());
    int kept = events.get(0).json().get("kept_chars").asInt();
    StringBuilder joined = new StringBuilder(had.substring(0, had.offsetByCodePoints(0, kept)));
    long previous = Long.parseLong(lastId);
    for (Event e : events.subList(1, events.size())) {
      if (e.data().equals("[DONE]")) {
        continue;
      }
      long id = Long.parseLong(e.id());
      org.junit.jupiter.api.Assertions.assertEquals(previous + 1, id, "no gap and no duplicate in event ids");
      previous = id;
      joined.append(e.content());
    }
    return joined.toString();
  }

  public static List<Event> parse(String body) {
    List<Event> out = new ArrayList<>();
    for (String block : body.replace("\r\n", "\n").split("\n\n")) {
      String type = null;
      String id = null;
      StringBuilder data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith(":") || line.isEmpty()) {
          continue;
        }
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1).startsWith(" ") ? line.substring(colon + 2)
            : line.substring(colon + 1);
        switch (field) {
          case "event" -> type = value;
          case "id" -> id = value;
          case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
          default -> { }
        }
      }
      if (data != null) {
        out.add(new Event(type, id, data.toString()));
      }
    }
    return out;
  }

  /** An OpenAI chat.completion.chunk SSE stream of {@code deltas}, finishing with stop and [DONE]. */
  public static String openAi(List<String> deltas, boolean finish) {
    StringBuilder sb = new StringBuilder();
    for (String d : deltas) {
      sb.append("data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-test\",\"choices\":[{\"index\":0,"
          + "\"delta\":{\"content\":").append(Json.write(com.fasterxml.jackson.databind.node.TextNode.valueOf(d)))
          .append("},\"finish_reason\":null}]}\n\n");
    }
    if (finish) {
      sb.append("data: {\"id\":\"chatcmpl-t\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
          + "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    }
    return sb.toString();
  }

  /**
   * An Anthropic Messages SSE stream of {@code deltas} (message_start, one text block, ping); with
   * {@code finish}, the block stop, {@code end_turn} and message_stop.
   */
  public static String anthropic(List<String> deltas, boolean finish) {
    StringBuilder sb = new StringBuilder();
    sb.append("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
        + "\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[],\"stop_reason\":null,"
        + "\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n");
    sb.append("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
        + "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    sb.append("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    for (String d : deltas) {
      sb.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
          + "\"delta\":{\"type\":\"text_delta\",\"text\":")
          .append(Json.write(com.fasterxml.jackson.databind.node.TextNode.valueOf(d))).append("}}\n\n");
    }
    if (finish) {
      sb.append("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
      sb.append("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
          + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n");
      sb.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }
    return sb.toString();
  }
}
