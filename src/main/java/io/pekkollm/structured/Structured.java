package io.pekkollm.structured;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatResponse;

/**
 * A schema-valid answer: the {@code value} (the JSON converted to the Java type), the {@code json} it came from,
 * the model's last {@code response} (its text as the model wrote it) and how many model calls it took.
 * Immutable.
 */
public record Structured<T>(T value, JsonNode json, ChatResponse response, int attempts) {}
