package io.pekkollm.recovery;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;

/** A resume that cannot start: the stream completed ({@link #finalText()} holds its answer) or is running. */
public final class ResumeConflictException extends LlmException {
  private static final long serialVersionUID = 1L;
  private final String finalText;

  public ResumeConflictException(String message, String finalText) {
    super(ErrorKind.CONFLICT, message, null, false, null);
    this.finalText = finalText;
  }

  /** The completed stream's text, or null when the conflict is a running stream. */
  public String finalText() {
    return finalText;
  }
}
