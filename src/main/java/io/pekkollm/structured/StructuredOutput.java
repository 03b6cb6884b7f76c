package io.pekkollm.structured;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.schema.JsonSchemas;
import io.pekkollm.util.Futures;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

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
    return attempt(chat, withSchema(request), new ArrayList<>());
  }

  /**
   * {@link #chat} streamed: the value while its JSON arrives, as {@link PartialValue}s holding the members
   * complete so far (each a new copy, emitted when the value grew), then the materialized stage completes with
   * the validated value. {@code answer} streams one model call and materializes its folded answer. An answer
   * that does not match is repaired as {@link #chat} does: the next attempt's partial values follow, numbered
   * by their attempt, so a UI knows to start over. Nothing is sent until the source is materialized.
   */
  public Source<PartialValue, CompletionStage<Structured<T>>> stream(
      Function<ChatRequest, Source<ChatChunk, CompletionStage<ChatResponse>>> answer, ChatRequest request) {
    return Source.lazySource(() -> {
      CompletableFuture<Structured<T>> result = new CompletableFuture<>();
      return streamAttempt(answer, withSchema(request), new ArrayList<>(), result)
          .watchTermination((n, done) -> {
            done.whenComplete((d, e) -> {
              if (e != null) {
                result.completeExceptionally(e);
              }
            });
            return result;
          });
    }).mapMaterializedValue(f -> f.thenCompose(r -> r));
  }

  private ChatRequest withSchema(ChatRequest request) {
    return request.toBuilder().responseFormat(ResponseFormat.jsonSchema(name, schema,
        JsonSchemas.strictCompatible(schema) ? Boolean.TRUE : null)).build();
  }

  private Source<PartialValue, NotUsed> streamAttempt(
      Function<ChatRequest, Source<ChatChunk, CompletionStage<ChatResponse>>> answer, ChatRequest request,
      List<StructuredOutputException.Attempt> failed, CompletableFuture<Structured<T>> result) {
    int attempt = failed.size() + 1;
    CompletableFuture<ChatResponse> whole = new CompletableFuture<>();
    PartialJson partial = new PartialJson();
    Source<PartialValue, NotUsed> parts = answer.apply(request)
        .mapMaterializedValue(done -> {
          Futures.completeWith(whole, done);
          return NotUsed.getInstance();
        })
        .mapConcat(c -> {
          JsonNode json = c.textDelta() == null ? null : partial.feed(c.textDelta());
          return json == null ? List.<PartialValue>of() : List.of(new PartialValue(attempt, json));
        });
    Source<PartialValue, NotUsed> next = Source.lazySource(() -> Source.completionStage(whole)
        .flatMapConcat(response -> {
          Check<T> check = check(response);
          if (check.errors().isEmpty()) {
            result.complete(new Structured<>(check.value(), check.json(), response, attempt));
            return Source.<PartialValue>empty();
          }
          failed.add(new StructuredOutputException.Attempt(response.text(), check.errors()));
          if (failed.size() >= maxAttempts) {
            result.completeExceptionally(new StructuredOutputException(name, failed));
            return Source.<PartialValue>empty();
          }
          return streamAttempt(answer, repair(request, response, check.errors()), failed, result);
        })).mapMaterializedValue(f -> NotUsed.getInstance());
    return parts.concat(next);
  }

  private CompletionStage<Structured<T>> attempt(Function<ChatRequest, CompletionStage<ChatResponse>> chat,
      ChatRequest request, List<StructuredOutputException.Attempt> failed) {
    return chat.apply(request).thenCompose(response -> {
      Check<T> check = check(response);
      if (check.errors().isEmpty()) {
        return CompletableFuture.completedFuture(new Structured<>(check.value(), check.json(), response,
            failed.size() + 1));
      }
      failed.add(new StructuredOutputException.Attempt(response.text(), check.errors()));
      if (failed.size() >= maxAttempts) {
        return CompletableFuture.failedFuture(new StructuredOutputException(name, failed));
      }
      return attempt(chat, repair(request, response, check.errors()), failed);
    });
  }

  /** The outcome of checking one answer: its JSON, the converted value, or what is wrong with it. */
  private record Check<T>(JsonNode json, T value, List<String> errors) {}

  private Check<T> check(ChatResponse response) {
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
    return new Check<>(json, value, errors);
  }

  /** The request asking again: the answer that did not match and its problems, then a request to correct it. */
  private ChatRequest repair(ChatRequest request, ChatResponse response, List<String> errors) {
    List<Message> messages = new ArrayList<>(request.messages());
    messages.add(Message.assistant(response.text()));
    messages.add(Message.user("Your answer does not match the JSON schema '" + name + "': "
        + String.join("; ", errors) + ". Answer again with only the corrected JSON value."));
    return request.withMessages(messages);
  }

  /**
   * The value of a streamed structured answer so far: the JSON members complete at this point of attempt
   * {@code attempt} (1 for the first answer, higher after a repair). Not yet validated. Immutable by convention:
   * each is a fresh copy.
   */
  public record PartialValue(int attempt, JsonNode json) {}
}
