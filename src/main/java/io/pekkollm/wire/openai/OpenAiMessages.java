package io.pekkollm.wire.openai;

import static io.pekkollm.wire.openai.JsonFields.optText;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * One chat message in OpenAI's shape, both ways: {@code role}, {@code content} as a string or an array of
 * {@code text} / {@code image_url} parts, {@code name}, {@code tool_calls}, {@code tool_call_id}. The gateway
 * reads it in requests, the OpenAI provider writes it upstream, and session files store it. Stateless and
 * thread-safe.
 */
public final class OpenAiMessages {
  private OpenAiMessages() {}

  /**
   * Reads one message in OpenAI's shape; {@code path} names it in errors (e.g. {@code messages[2]}). Throws
   * {@link LlmException} of kind INVALID_REQUEST naming the field at fault.
   */
  public static Message readMessage(JsonNode m, String path) {
    if (m == null || !m.isObject()) {
      throw LlmException.invalidRequest(path + " must be an object with 'role' and 'content'", path);
    }
    JsonNode roleNode = m.get("role");
    if (roleNode == null || !roleNode.isTextual()) {
      throw LlmException.invalidRequest(path + ".role is required: system, developer, user, assistant or tool",
          path + ".role");
    }
    String role = roleNode.asText();
    JsonNode content = m.get("content");
    switch (role) {
      case "system", "developer": {
        return Message.system(contentText(content, path));
      }
      case "user": {
        if (content == null || content.isNull()) {
          throw LlmException.invalidRequest(path + ".content is required for a user message", path + ".content");
        }
        return new Message.User(readParts(content, path + ".content"), optText(m, "name"));
      }
      case "assistant": {
        List<ToolCall> calls = new ArrayList<>();
        JsonNode tcs = m.get("tool_calls");
        if (tcs != null && !tcs.isNull()) {
          if (!tcs.isArray()) {
            throw LlmException.invalidRequest(path + ".tool_calls must be an array", path + ".tool_calls");
          }
          for (int i = 0; i < tcs.size(); i++) {
            JsonNode tc = tcs.get(i);
            JsonNode fn = tc.path("function");
            if (!fn.isObject() || !fn.path("name").isTextual()) {
              throw LlmException.invalidRequest(path + ".tool_calls[" + i + "].function.name is required",
                  path + ".tool_calls");
            }
            calls.add(new ToolCall(Json.text(tc, "id"), fn.get("name").asText(), Json.text(fn, "arguments")));
          }
        }
        String text = content == null || content.isNull() ? null : contentText(content, path);
        if (text == null && calls.isEmpty()) {
          throw LlmException.invalidRequest(path + " (assistant) needs content or tool_calls", path + ".content");
        }
        return new Message.Assistant(text, calls, null);
      }
      case "tool": {
        String id = optText(m, "tool_call_id");
        if (id == null) {
          throw LlmException.invalidRequest(path + ".tool_call_id is required for a tool message",
              path + ".tool_call_id");
        }
        return Message.tool(id, contentText(content, path));
      }
      default:
        throw LlmException.invalidRequest(path + ".role '" + role
            + "' is not supported: use system, developer, user, assistant or tool", path + ".role");
    }
  }

  private static String contentText(JsonNode content, String path) {
    if (content == null || content.isNull()) {
      throw LlmException.invalidRequest(path + ".content is required", path + ".content");
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (ContentPart p : readParts(content, path + ".content")) {
        if (p instanceof ContentPart.Text t) {
          sb.append(t.text());
        } else {
          throw LlmException.invalidRequest(path + ".content may only hold text parts for this role",
              path + ".content");
        }
      }
      return sb.toString();
    }
    throw LlmException.invalidRequest(path + ".content must be a string or an array of content parts",
        path + ".content");
  }

  private static List<ContentPart> readParts(JsonNode content, String path) {
    if (content.isTextual()) {
      return List.of(ContentPart.text(content.asText()));
    }
    if (!content.isArray()) {
      throw LlmException.invalidRequest(path + " must be a string or an array of content parts", path);
    }
    List<ContentPart> parts = new ArrayList<>();
    for (int i = 0; i < content.size(); i++) {
      JsonNode p = content.get(i);
      String type = Json.text(p, "type");
      if ("text".equals(type) && p.path("text").isTextual()) {
        parts.add(ContentPart.text(p.get("text").asText()));
      } else if ("image_url".equals(type)) {
        JsonNode iu = p.get("image_url");
        String url = iu == null ? null : iu.isTextual() ? iu.asText() : Json.text(iu, "url");
        if (url == null) {
          throw LlmException.invalidRequest(path + "[" + i + "].image_url.url is required", path);
        }
        ContentPart.Image img = ContentPart.imageUrl(url);
        String detail = iu.isObject() ? Json.text(iu, "detail") : null;
        parts.add(detail == null ? img : img.withDetail(detail));
      } else {
        throw LlmException.invalidRequest(path + "[" + i + "] has unsupported type '" + type
            + "': use text or image_url", path);
      }
    }
    return parts;
  }

  /**
   * Puts a user turn's {@code content} into {@code o} the OpenAI way: a plain string for one text part, else
   * an array of {@code text} and {@code image_url} parts. Shared by the APIs that took this shape (Cohere v2).
   */
  public static void writeUserContent(Message.User u, ObjectNode o) {
    if (u.content().size() == 1 && u.content().get(0) instanceof ContentPart.Text t) {
      o.put("content", t.text());
      return;
    }
    ArrayNode parts = o.putArray("content");
    for (ContentPart p : u.content()) {
      if (p instanceof ContentPart.Text t) {
        parts.addObject().put("type", "text").put("text", t.text());
      } else if (p instanceof ContentPart.Image img) {
        ObjectNode iu = parts.addObject().put("type", "image_url").putObject("image_url");
        iu.put("url", img.asUrl());
        if (img.detail() != null) {
          iu.put("detail", img.detail());
        }
      }
    }
  }

  /** Writes one message in OpenAI's shape (the inverse of {@link #readMessage}). */
  public static ObjectNode writeMessage(Message m) {
    ObjectNode o = Json.object().put("role", m.role());
    if (m instanceof Message.System s) {
      o.put("content", s.content());
    } else if (m instanceof Message.User u) {
      writeUserContent(u, o);
      if (u.name() != null) {
        o.put("name", u.name());
      }
    } else if (m instanceof Message.Assistant a) {
      if (a.content() == null) {
        o.putNull("content");
      } else {
        o.put("content", a.content());
      }
      if (!a.toolCalls().isEmpty()) {
        ArrayNode tcs = o.putArray("tool_calls");
        for (ToolCall tc : a.toolCalls()) {
          ObjectNode c = tcs.addObject();
          c.put("id", tc.id()).put("type", "function");
          c.putObject("function").put("name", tc.name()).put("arguments", tc.arguments());
        }
      }
    } else if (m instanceof Message.Tool t) {
      o.put("tool_call_id", t.toolCallId()).put("content", t.content());
    }
    return o;
  }
}
