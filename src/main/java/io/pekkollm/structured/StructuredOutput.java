package io.pekkollm.structured;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.schema.JsonSchemas;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Answers that match a JSON Schema: the schema goes out as the request's {@code response_format: json_schema}
 * (which each provider's translation sends its native way: OpenAI {@code json_schema}, strict when the schema
 * allows it; Gemini {@code responseSchema}; Anthropic a forced tool; Ollama {@code format}; Cohere
 * {@code response_format}), the JSON is taken from the answer (also from a markdown fence or surrounding prose),
 * validated, and converted. An answer that does not match is sent back with its problems and the model asked
 * again, up to {@link #maxAttempts()} model calls in all (default 3); then the call fails with
 * {@link StructuredOutputException}, which holds every attempt.
 *
 * <p>Immutable and thread-safe. {@code LlmClient.chat(request, Invoice.class)} is the short way.
 */
public final class StructuredOutput<T> {
  private final String name;
  private final JsonNode schema;
  private final JsonSchemas.Validator validator;
  private final Class<T> type;
  private final int maxAttempts;

  private StructuredOutput(String name, JsonNode schema, Class<T> type, int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1");
    }
    this.name = Objects.requireNonNull(name, "name");
    this.schema = schema;
    this.validator = JsonSchemas.validator(schema);
    this.type = type;
    this.maxAttempts = maxAttempts;
  }

  /** Answers as {@code type} (a record, a class with fields, an enum...), its schema generated from the type. */
  public static <T> StructuredOutput<T> of(Class<T> type) {
    String name = type.getSimpleName().replaceAll("[^a-zA-Z0-9_-]", "_");
    return new StructuredOutput<>(name.isEmpty() ? "response" : name, JsonSchemas.of(type), type, 3);
  }

  /**
   * Answers as JSON matching {@code schema} (checked against the JSON Schema meta-schema here).
   *
   * @throws IllegalArgumentException when {@code schema} is not a valid JSON Schema
   */
  public static StructuredOutput<JsonNode> of(String name, JsonNode schema) {
    return new StructuredOutput<>(name, schema.deepCopy(), JsonNode.class, 3);
  }

  public StructuredOutput<T> withMaxAttempts(int value) {
    return new StructuredOutput<>(name, schema, type, value);
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  /** The schema (a copy). */
  public JsonNode schema() {
    return schema.deepCopy();
  }

  /**
   * The answer to {@code request} through {@code chat} (one model call each), with this schema as its
   * response format. Fails with {@link StructuredOutputException} after {@link #maxAttempts()} answers that do
   * not match, and with the model call's error when one fails.
   */
  public CompletionStage<Structured<T>> chat(Function<ChatRequest, CompletionStage<ChatResponse>> chat,
      ChatRequest request) {
    ChatRequest first = request.toBuilder().responseFormat(ResponseFormat.jsonSchema(name, schema,
        JsonSchemas.strictCompatible(schema) ? Boolean.TRUE : null)).build();
    return attempt(chat, first, new ArrayList<>());
  }

  private CompletionStage<Structured<T>> attempt(Function<ChatRequest, CompletionStage<ChatResponse>> chat,
      ChatRequest request, List<StructuredOutputException.Attempt> failed) {
    return chat.apply(request).thenCompose(response -> {
      List<String> errors = new ArrayList<>();
      JsonNode json = JsonExtraction.extract(response.text());
      T value = null;
      if (json == null) {
        errors.add("the answer holds no JSON value");
      } else {
        errors.addAll(validator.errors(json));
        if (errors.isEmpty()) {
          try {
            value = type == JsonNode.class ? type.cast(json) : JsonSchemas.MAPPER.treeToValue(json, type);
          } catch (Exception e) {
            errors.add("the JSON does not convert to " + type.getSimpleName() + ": " + e.getMessage());
          }
        }
      }
      if (errors.isEmpty()) {
        return CompletableFuture.completedFuture(new Structured<>(value, json, response, failed.size() + 1));
      }
      failed.add(new StructuredOutputException.Attempt(response.text(), errors));
      if (failed.size() >= maxAttempts) {
        return CompletableFuture.failedFuture(new StructuredOutputException(name, failed));
      }
      List<Message> messages = new ArrayList<>(request.messages());
      messages.add(Message.assistant(response.text()));
      messages.add(Message.user("Your answer does not match the JSON schema '" + name + "': "
          + String.join("; ", errors) + ". Answer again with only the corrected JSON value."));
      return attempt(chat, request.withMessages(messages), failed);
    });
  }
}
