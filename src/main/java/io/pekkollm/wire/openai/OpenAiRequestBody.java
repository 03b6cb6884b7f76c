package io.pekkollm.wire.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.util.Json;

/**
 * A {@link ChatRequest} as an OpenAI Chat Completions request body: what the OpenAI provider sends upstream
 * and what cache keys are computed from. Stateless and thread-safe.
 */
public final class OpenAiRequestBody {
  private OpenAiRequestBody() {}

  /**
   * The body of {@code request} without {@code stream} / {@code stream_options}: its pass-through fields, then the
   * fields the library models (which win over pass-through fields of the same name). {@code maxTokensField} names
   * the token limit: {@code max_completion_tokens} (OpenAI) or {@code max_tokens} (most compatible hosts).
   * {@code metadata} is not written: it is the caller's, not the upstream's.
   */
  public static ObjectNode write(ChatRequest request, String maxTokensField) {
    ObjectNode o = Json.object();
    // Pass-through fields first: fields this library models always win over them.
    request.extraBody().forEach(o::set);
    o.put("model", request.model());
    ArrayNode msgs = o.putArray("messages");
    for (Message m : request.messages()) {
      msgs.add(OpenAiMessages.writeMessage(m));
    }
    if (request.temperature() != null) {
      o.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      o.put("top_p", request.topP());
    }
    if (request.maxTokens() != null) {
      o.put(maxTokensField, request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode s = o.putArray("stop");
      request.stop().forEach(s::add);
    }
    if (request.seed() != null) {
      o.put("seed", request.seed());
    }
    if (request.presencePenalty() != null) {
      o.put("presence_penalty", request.presencePenalty());
    }
    if (request.frequencyPenalty() != null) {
      o.put("frequency_penalty", request.frequencyPenalty());
    }
    if (!request.tools().isEmpty()) {
      ArrayNode tools = o.putArray("tools");
      for (ToolDefinition t : request.tools()) {
        ObjectNode fn = tools.addObject().put("type", "function").putObject("function");
        fn.put("name", t.name());
        if (t.description() != null) {
          fn.put("description", t.description());
        }
        if (t.parameters() != null) {
          fn.set("parameters", t.parameters());
        }
        if (t.strict() != null) {
          fn.put("strict", t.strict());
        }
      }
    }
    if (request.toolChoice() != null) {
      ToolChoice tc = request.toolChoice();
      if (tc.mode() == ToolChoice.Mode.FUNCTION) {
        o.putObject("tool_choice").put("type", "function").putObject("function").put("name", tc.functionName());
      } else {
        o.put("tool_choice", tc.toString());
      }
    }
    if (request.parallelToolCalls() != null) {
      o.put("parallel_tool_calls", request.parallelToolCalls());
    }
    if (request.responseFormat() != null) {
      ResponseFormat rf = request.responseFormat();
      ObjectNode r = o.putObject("response_format");
      switch (rf.type()) {
        case TEXT -> r.put("type", "text");
        case JSON_OBJECT -> r.put("type", "json_object");
        case JSON_SCHEMA -> {
          r.put("type", "json_schema");
          ObjectNode js = r.putObject("json_schema").put("name", rf.schemaName());
          js.set("schema", rf.schema());
          if (rf.strict() != null) {
            js.put("strict", rf.strict());
          }
        }
      }
    }
    if (request.user() != null) {
      o.put("user", request.user());
    }
    return o;
  }
}
