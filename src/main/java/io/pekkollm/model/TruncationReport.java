package io.pekkollm.model;

/**
 * What truncation did to a request: how many messages it dropped, and the request's input tokens before and
 * after (messages, tool definitions and reply priming). {@code exactCounts} is false when the counts are
 * estimates (models without a public tokenizer, images of unknown size, tool definitions).
 */
public record TruncationReport(TruncationStrategy strategy, int messagesBefore, int messagesDropped,
    int tokensBefore, int tokensAfter, boolean exactCounts) {

  public int messagesAfter() {
    return messagesBefore - messagesDropped;
  }
}
