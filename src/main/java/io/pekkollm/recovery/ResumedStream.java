package io.pekkollm.recovery;

import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * An accepted resume. The caller keeps the first {@code keptChars} code points of the text it has, drops the
 * following {@code discardedChars}, then appends the text of {@code chunks}: first the journalled chunks it
 * missed, then the continuation. {@code chunks} runs once. {@code keptText} is the text those first
 * {@code keptChars} code points are (the answer before the first chunk of {@code chunks}); {@code origin} what the
 * stream's starter asked the journal to keep with it (null: none).
 */
public record ResumedStream(String recoveryId, ResumeStrategy strategy, int keptChars, int discardedChars,
    String model, int attempt, Source<JournaledChunk, NotUsed> chunks, String keptText, String origin) {}
