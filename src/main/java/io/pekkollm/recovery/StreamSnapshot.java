package io.pekkollm.recovery;

import io.pekkollm.model.Usage;

/**
 * What the journal knows of one stream: {@code status} is {@code streaming}, {@code completed} or
 * {@code interrupted}; {@code text} is the answer so far; {@code lastSeq} the id of its last SSE event;
 * {@code cause}, {@code errorKind} and {@code recoverable} describe an interruption; {@code cancelled} when the
 * caller stopped it. Times are epoch milliseconds. {@code origin} is what the stream's starter asked the journal to
 * keep with it ({@link io.pekkollm.api.LlmClient#streamJournaled(io.pekkollm.model.ChatRequest, String)}), null
 * for none; {@code owner} is the virtual key id that started it (null: none).
 */
public record StreamSnapshot(String recoveryId, String status, String provider, String model, int attempt,
    String text, long lastSeq, String finishReason, Usage usage, String cause, String errorKind, boolean recoverable,
    boolean cancelled, long startedAtMillis, long updatedAtMillis, String origin, String owner) {}
