package io.pekkollm.recovery;

import io.pekkollm.model.ChatChunk;

/**
 * A chunk with its sequence number in its stream: the SSE {@code id} the gateway sends, and what a client
 * passes back as {@code Last-Event-ID}. {@code seq} is 0 for a chunk that carries only usage.
 */
public record JournaledChunk(long seq, ChatChunk chunk) {}
