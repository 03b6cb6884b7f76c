package io.pekkollm.session;

import io.pekkollm.stream.ChatStream;
import io.pekkollm.recovery.JournaledChunk;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A streamed turn once its session is reserved: the answer's chunks (nothing is sent until they are run) and
 * the {@code provider/model} they come from. See {@link SessionClient#streamJournaled}.
 */
public record SessionStream(String sessionId, String model, Source<JournaledChunk, ChatStream> chunks) {}
