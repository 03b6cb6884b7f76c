package io.pekkollm.recovery;

import io.pekkollm.model.Usage;

/**
 * What the journal knows of one stream: {@code status} is {@code streaming}, {@code completed} or
 * {@code interrupted}; {@code text} is the answer so far; {@code lastSeq} the id of its last SSE event;
 * {@code cause}, {@code errorKind} and {@code recoverable} describe an interruption; {@code cancelled} when the
 * caller stopped it; {@code owner} is the virtual key id that started it (null: none). Times are epoch milliseconds.
 */
public record StreamSnapshot(String recoveryId, String status, String provider, String model, int attempt,
    String text, long lastSeq, String finishReason, Usage usage, String cause, String errorKind, boolean recoverable,
    boolean cancelled, long startedAtMillis, long updatedAtMillis, String owner) {}
