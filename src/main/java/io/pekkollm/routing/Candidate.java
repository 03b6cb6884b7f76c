package io.pekkollm.routing;

import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.TruncationReport;

/**
 * One model a call may go to: its {@code provider/model} id, its route, the request that model gets (the
 * provider's own model id; shortened when truncation was asked for and needed; without the client-side options)
 * and what truncation did (null when nothing).
 */
public record Candidate(String id, Route route, ChatRequest upstream, TruncationReport truncation) {}
