package io.pekkollm.recovery;

import io.pekkollm.recovery.StreamEvent.StoredChunk;
import java.util.List;

/**
 * What a resume will do, decided by the stream's entity when it accepted the resume. The client keeps its
 * first {@code keptCodePoints}, drops {@code discardedCodePoints}, then appends {@code replay} (journalled
 * chunks it missed) and the continuation. {@code baseText} is the answer the continuation follows; {@code origin}
 * the stream's Started event's.
 */
record ResumePlan(String recoveryId, ResumeStrategy strategy, int keptCodePoints, int discardedCodePoints,
    List<StoredChunk> replay, String baseText, String request, String originalModel, String model, int attempt,
    int outputTokensSoFar, String origin) {}
