package io.pekkollm.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.provider.EmbeddingJson;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Translation between the common model and the Gemini API ({@code generateContent}), both ways. Stateless
 * and thread-safe.
 *
 * <p>Requests: system messages become {@code system_instruction}; assistant turns have role {@code model};
 * tool results become {@code functionResponse} parts of a user turn, named after the call they answer (Gemini
 * matches results by function name, so the name is looked up from the earlier assistant message); turns of the
 * same role are merged. A call id made by {@link #callId} gives the call its {@code thoughtSignature} back.
 * JSON mode sets {@code responseMimeType: application/json}, and a JSON schema
 * {@code responseSchema}. Schemas (tool parameters and response schemas) are reduced to the OpenAPI subset
 * Gemini's {@code Schema} accepts, because it answers 400 "Unknown name" for any other key: unsupported
 * keywords ({@code $schema}, {@code additionalProperties}, {@code $ref}, ...) are dropped, {@code const}
 * becomes a one-value {@code enum}, and a type list with {@code "null"} becomes {@code nullable}.
 *
 * <p>Images: base64 data is sent as {@code inlineData}; a URL as {@code fileData.fileUri} (meant for Files API
 * and Cloud Storage URIs; whether Gemini fetches an arbitrary web URL depends on the model), with the MIME type
 * guessed from the file extension when not given.
 *
 * <p>From {@link ChatRequest#extraBody()} only Gemini's own keys pass: {@code safetySettings} and
 * {@code cachedContent} at the top level, {@code topK} and {@code thinkingConfig} into
 * {@code generationConfig}.
 */
final class GeminiMapper {
  /**
   * Separates a generated call id from the {@code thoughtSignature} Gemini attached to the call. The character
   * occurs in neither Gemini's response ids nor base64, so the split is unambiguous.
   */
  static final char SIGNATURE_SEPARATOR = '~';
  private static final Set<String> TOP_LEVEL_PASS_THROUGH = Set.of("safetySettings", "cachedContent");
  private static final Set<String> GENERATION_PASS_THROUGH = Set.of("topK", "thinkingConfig");
  /** The fields of Gemini's {@code Schema} object (v1beta) copied as they are. */
  private static final Set<String> SCHEMA_KEYS = Set.of("type", "format", "title", "description", "nullable",
      "enum", "maxItems", "minItems", "required", "minProperties", "maxProperties", "minLength", "maxLength",
      "pattern", "example", "propertyOrdering", "default", "minimum", "maximum");
  private static final Set<String> CONTENT_FILTER_REASONS = Set.of("SAFETY", "RECITATION", "BLOCKLIST",
      "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION");

  private GeminiMapper() {}

  // ---------------------------------------------------------------- requests

  /** The model id as it goes in the URL path: {@code models/x} and {@code x} both name model x. */
  static String modelPath(String model) {
    return model.startsWith("models/") ? model.substring("models/".length()) : model;
  }

  /**
   * The {@code batchEmbedContents} body: one {@code EmbedContentRequest} per text, with the task type derived from
   * the input type and {@code outputDimensionality} from the dimensions.
   */
  static ObjectNode embeddingBody(EmbeddingRequest request) {
    EmbeddingJson.requireTexts("gemini", request);
    String taskType = request.inputType() == null ? null : switch (request.inputType()) {
      case "search_document" -> "RETRIEVAL_DOCUMENT";
      case "search_query" -> "RETRIEVAL_QUERY";
      case "classification" -> "CLASSIFICATION";
      case "clustering" -> "CLUSTERING";
      default -> request.inputType().toUpperCase(java.util.Locale.ROOT);
    };
    ObjectNode o = Json.object();
    var requests = o.putArray("requests");
    for (String text : request.texts()) {
      ObjectNode r = requests.addObject();
      r.put("model", "models/" + modelPath(request.model()));
      r.putObject("content").putArray("parts").addObject().put("text", text);
      if (taskType != null) {
        r.put("taskType", taskType);
      }
      if (request.dimensions() != null) {
        r.put("outputDimensionality", request.dimensions());
      }
    }
    return o;
  }

  /** A {@code BatchEmbedContentsResponse}: {@code embeddings[].values} in input order; tokens estimated. */
  static EmbeddingResponse readEmbeddings(String provider, EmbeddingRequest request, JsonNode root, String body) {
    List<float[]> vectors = new ArrayList<>();
    root.path("embeddings").forEach(e -> vectors.add(EmbeddingJson.floats(provider, e.path("values"), body)));
    return EmbeddingJson.response(provider, request, null, vectors, -1, body);
  }

  /** The {@code generateContent} body for {@code request}. Throws {@link LlmException} for what Gemini cannot express. */
  static ObjectNode toRequest(ChatRequest request) {
    ObjectNode o = Json.object();
    request.extraBody().forEach((k, v) -> {
      if (TOP_LEVEL_PASS_THROUGH.contains(k)) {
        o.set(k, v);
      }
    });
    ArrayNode system = Json.MAPPER.createArrayNode();
    for (Message m : request.messages()) {
      if (m instanceof Message.System s) {
        system.addObject().put("text", s.content());
      }
    }
    if (!system.isEmpty()) {
      o.putObject("system_instruction").set("parts", system);
    }
    o.set("contents", contents(request.messages()));
    writeTools(o, request);
    ObjectNode gen = generationConfig(request);
    if (!gen.isEmpty()) {
      o.set("generationConfig", gen);
    }
    return o;
  }

  private static ArrayNode contents(List<Message> messages) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    Map<String, String> callNames = new HashMap<>();
    String lastRole = null;
    ArrayNode parts = null;
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      String path = "messages[" + i + "]";
      if (m instanceof Message.System) {
        continue;
      }
      String role = m instanceof Message.Assistant ? "model" : "user";
      if (!role.equals(lastRole)) {
        ObjectNode content = out.addObject().put("role", role);
        parts = content.putArray("parts");
        lastRole = role;
      }
      if (m instanceof Message.User u) {
        for (ContentPart p : u.content()) {
          parts.add(userPart(p));
        }
      } else if (m instanceof Message.Assistant a) {
        if (a.content() != null && !a.content().isEmpty()) {
          parts.addObject().put("text", a.content());
        }
        for (ToolCall call : a.toolCalls()) {
          callNames.put(call.id(), call.name());
          ObjectNode part = parts.addObject();
          ObjectNode fc = part.putObject("functionCall").put("name", call.name());
          fc.set("args", arguments(call, path));
          String signature = signatureOf(call.id());
          if (signature != null) {
            part.put("thoughtSignature", signature);
          }
        }
      } else if (m instanceof Message.Tool t) {
        String name = callNames.get(t.toolCallId());
        if (name == null) {
          throw LlmException.invalidRequest(path + " answers tool call '" + t.toolCallId()
              + "', which no earlier assistant message made; Gemini needs the function's name", path + ".tool_call_id");
        }
        ObjectNode fr = parts.addObject().putObject("functionResponse").put("name", name);
        fr.set("response", toolResponse(t.content()));
      }
    }
    // A turn whose only message had nothing to send (e.g. an empty assistant text) is dropped: Gemini rejects
    // a content without parts.
    for (Iterator<JsonNode> it = out.iterator(); it.hasNext(); ) {
      if (it.next().path("parts").isEmpty()) {
        it.remove();
      }
    }
    return out;
  }

  /**
   * The call id for the {@code index}-th function call of response {@code responseId}, carrying the call's
   * {@code thoughtSignature} when Gemini gave one. Thinking models (Gemini 3) reject a conversation whose
   * earlier function calls come back without their signatures; the id is the one field every OpenAI-style
   * client returns unchanged, so the signature travels in it and no state is kept between requests.
   */
  static String callId(String responseId, int index, String thoughtSignature) {
    String base = responseId != null ? "call_" + responseId + "_" + index
        : "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
    return thoughtSignature == null || thoughtSignature.isEmpty() ? base : base + SIGNATURE_SEPARATOR + thoughtSignature;
  }

  /** The thought signature carried in a call id made by {@link #callId}, or null. */
  static String signatureOf(String callId) {
    int sep = callId == null ? -1 : callId.indexOf(SIGNATURE_SEPARATOR);
    return sep < 0 || sep == callId.length() - 1 ? null : callId.substring(sep + 1);
  }

  private static ObjectNode userPart(ContentPart p) {
    if (p instanceof ContentPart.Text t) {
      return Json.object().put("text", t.text());
    }
    ContentPart.Image img = (ContentPart.Image) p;
    ObjectNode part = Json.object();
    if (img.base64Data() != null) {
      part.putObject("inlineData").put("mimeType", img.mediaType() == null ? "image/png" : img.mediaType())
          .put("data", img.base64Data());
    } else {
      part.putObject("fileData").put("mimeType", img.mediaType() != null ? img.mediaType() : guessMimeType(img.url()))
          .put("fileUri", img.url());
    }
    return part;
  }

  static String guessMimeType(String url) {
    String path = url.toLowerCase(Locale.ROOT);
    int q = path.indexOf('?');
    path = q < 0 ? path : path.substring(0, q);
    if (path.endsWith(".png")) {
      return "image/png";
    }
    if (path.endsWith(".webp")) {
      return "image/webp";
    }
    if (path.endsWith(".heic")) {
      return "image/heic";
    }
    if (path.endsWith(".heif")) {
      return "image/heif";
    }
    if (path.endsWith(".gif")) {
      return "image/gif";
    }
    return "image/jpeg";
  }

  private static JsonNode arguments(ToolCall call, String path) {
    if (call.arguments().isBlank()) {
      return Json.object();
    }
    JsonNode args = parseOrNull(call.arguments());
    if (args == null || !args.isObject()) {
      throw LlmException.invalidRequest(path + ".tool_calls: the arguments of call '" + call.id()
          + "' must be a JSON object for Gemini (functionCall.args)", path + ".tool_calls");
    }
    return args;
  }

  /**
   * {@code functionResponse.response} must be a JSON object. A result that is one is sent as it is (Gemini then
   * treats the whole object as the output); anything else is wrapped as {@code {"output": text}}, the key
   * Gemini's API reference names for a function's output.
   */
  private static JsonNode toolResponse(String content) {
    JsonNode parsed = parseOrNull(content);
    return parsed != null && parsed.isObject() ? parsed : Json.object().put("output", content);
  }

  private static JsonNode parseOrNull(String text) {
    try {
      return Json.parse(text);
    } catch (java.io.IOException e) {
      return null;
    }
  }

  private static void writeTools(ObjectNode o, ChatRequest request) {
    if (request.tools().isEmpty()) {
      return;
    }
    ArrayNode decls = o.putArray("tools").addObject().putArray("functionDeclarations");
    for (ToolDefinition t : request.tools()) {
      ObjectNode d = decls.addObject().put("name", t.name());
      if (t.description() != null) {
        d.put("description", t.description());
      }
      // A function without parameters leaves "parameters" unset (an empty object schema is rejected).
      if (t.parameters() != null && !t.parameters().path("properties").isEmpty()) {
        d.set("parameters", schema(t.parameters()));
      }
    }
    ToolChoice tc = request.toolChoice();
    if (tc != null) {
      ObjectNode fcc = o.putObject("toolConfig").putObject("functionCallingConfig");
      switch (tc.mode()) {
        case AUTO -> fcc.put("mode", "AUTO");
        case NONE -> fcc.put("mode", "NONE");
        case REQUIRED -> fcc.put("mode", "ANY");
        case FUNCTION -> {
          fcc.put("mode", "ANY");
          fcc.putArray("allowedFunctionNames").add(tc.functionName());
        }
      }
    }
  }

  private static ObjectNode generationConfig(ChatRequest request) {
    ObjectNode g = Json.object();
    request.extraBody().forEach((k, v) -> {
      if (GENERATION_PASS_THROUGH.contains(k)) {
        g.set(k, v);
      }
    });
    if (request.temperature() != null) {
      g.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      g.put("topP", request.topP());
    }
    if (request.maxTokens() != null) {
      g.put("maxOutputTokens", request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode s = g.putArray("stopSequences");
      request.stop().forEach(s::add);
    }
    if (request.seed() != null) {
      g.put("seed", request.seed());
    }
    if (request.presencePenalty() != null) {
      g.put("presencePenalty", request.presencePenalty());
    }
    if (request.frequencyPenalty() != null) {
      g.put("frequencyPenalty", request.frequencyPenalty());
    }
    ResponseFormat rf = request.responseFormat();
    if (rf != null && rf.type() != ResponseFormat.Type.TEXT) {
      g.put("responseMimeType", "application/json");
      if (rf.type() == ResponseFormat.Type.JSON_SCHEMA) {
        g.set("responseSchema", schema(rf.schema()));
      }
    }
    return g;
  }

  /** A JSON Schema reduced to the OpenAPI subset Gemini's {@code Schema} accepts (see the class comment). */
  static JsonNode schema(JsonNode s) {
    if (s == null || !s.isObject()) {
      return s;
    }
    ObjectNode out = Json.object();
    s.fields().forEachRemaining(e -> {
      String k = e.getKey();
      JsonNode v = e.getValue();
      switch (k) {
        case "properties" -> {
          if (v.isObject()) {
            ObjectNode props = out.putObject("properties");
            v.fields().forEachRemaining(p -> props.set(p.getKey(), schema(p.getValue())));
          }
        }
        case "items" -> out.set("items", schema(v));
        case "anyOf", "oneOf" -> {
          if (v.isArray()) {
            ArrayNode any = out.putArray("anyOf");
            v.forEach(x -> any.add(schema(x)));
          }
        }
        case "type" -> {
          if (v.isArray()) {
            for (JsonNode t : v) {
              if ("null".equals(t.asText())) {
                out.put("nullable", true);
              } else if (!out.has("type")) {
                out.put("type", t.asText());
              }
            }
          } else {
            out.set("type", v);
          }
        }
        case "const" -> out.putArray("enum").add(v.asText());
        default -> {
          if (SCHEMA_KEYS.contains(k)) {
            out.set(k, v);
          }
        }
      }
    });
    return out;
  }

  // ---------------------------------------------------------------- responses

  /**
   * Maps a candidate's {@code finishReason}: STOP → stop (tool_calls when the turn called functions),
   * MAX_TOKENS → length, the safety family (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII and the
   * IMAGE_ ones) → content_filter; others (MALFORMED_FUNCTION_CALL, OTHER, ...) are kept as open values.
   */
  static FinishReason finishReason(String reason, boolean calledFunctions) {
    if (reason == null) {
      return null;
    }
    if (reason.equals("STOP")) {
      return calledFunctions ? FinishReason.TOOL_CALLS : FinishReason.STOP;
    }
    if (reason.equals("MAX_TOKENS")) {
      return FinishReason.LENGTH;
    }
    if (CONTENT_FILTER_REASONS.contains(reason)) {
      return FinishReason.CONTENT_FILTER;
    }
    return FinishReason.of(reason);
  }

  /**
   * Usage from {@code usageMetadata} (cumulative in a stream). {@code promptTokenCount} already includes
   * {@code cachedContentTokenCount}; {@code candidatesTokenCount} excludes {@code thoughtsTokenCount}, which
   * the common {@link Usage} counts inside the output, so they are added. Tool-use prompt tokens count as input.
   */
  static Usage usage(JsonNode um) {
    if (um == null || !um.isObject()) {
      return null;
    }
    int thoughts = Json.intValue(um, "thoughtsTokenCount");
    return new Usage(Json.intValue(um, "promptTokenCount") + Json.intValue(um, "toolUsePromptTokenCount"),
        Json.intValue(um, "candidatesTokenCount") + thoughts, Json.intValue(um, "cachedContentTokenCount"), 0,
        thoughts);
  }

  /**
   * The fields of Google's error body {@code {"error": {"code", "message", "status", "details"}}}: type is the
   * RPC status (e.g. RESOURCE_EXHAUSTED), code the {@code ErrorInfo.reason} when given (e.g. API_KEY_INVALID)
   * or else the numeric code, and the retry hint from {@code RetryInfo.retryDelay}. Streams sometimes wrap the
   * body in an array. Other shapes fall back to the common reader.
   */
  static ErrorClassifier.ErrorDetails errorDetails(String body) {
    JsonNode root = parseOrNull(body);
    if (root != null && root.isArray() && !root.isEmpty()) {
      root = root.get(0);
    }
    JsonNode err = root == null ? null : root.get("error");
    if (err == null || !err.isObject()) {
      return ErrorClassifier.parseCommonBody(body);
    }
    String reason = null;
    Duration retryDelay = null;
    for (JsonNode d : err.path("details")) {
      String type = Json.text(d, "@type");
      if (type == null) {
        continue;
      }
      if (type.endsWith("google.rpc.ErrorInfo") && reason == null) {
        reason = Json.text(d, "reason");
      } else if (type.endsWith("google.rpc.RetryInfo")) {
        retryDelay = protoDuration(Json.text(d, "retryDelay"));
      }
    }
    return new ErrorClassifier.ErrorDetails(Json.text(err, "message"), Json.text(err, "status"),
        reason != null ? reason : Json.text(err, "code"), null, retryDelay);
  }

  /** A protobuf Duration in JSON form ("17s", "34.4s", "0.000001s"); null when absent or not that form. */
  static Duration protoDuration(String text) {
    if (text == null || !text.endsWith("s")) {
      return null;
    }
    try {
      BigDecimal seconds = new BigDecimal(text.substring(0, text.length() - 1).trim());
      if (seconds.signum() < 0) {
        return null;
      }
      return Duration.ofNanos(seconds.movePointRight(9).longValueExact());
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  /** Models from a {@code GET /v1beta/models} page: only those that can {@code generateContent}. */
  static List<ModelInfo> models(String provider, JsonNode page) {
    List<ModelInfo> out = new ArrayList<>();
    for (JsonNode m : page.path("models")) {
      String name = Json.text(m, "name");
      boolean generates = false;
      for (JsonNode method : m.path("supportedGenerationMethods")) {
        generates |= "generateContent".equals(method.asText());
      }
      if (name != null && generates) {
        out.add(new ModelInfo(provider + "/" + modelPath(name), provider, 0, "google"));
      }
    }
    return out;
  }
}
