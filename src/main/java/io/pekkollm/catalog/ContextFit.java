package io.pekkollm.catalog;

import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.TruncationReport;
import java.util.Optional;

/**
 * The outcome of {@link ContextGuard#fit}: the request to send (the original, or a shortened copy) and, when it
 * was shortened, what was dropped.
 */
public record ContextFit(ChatRequest request, Optional<TruncationReport> truncation) {}
