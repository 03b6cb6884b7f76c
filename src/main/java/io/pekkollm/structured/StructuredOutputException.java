package io.pekkollm.structured;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.util.List;

/**
 * No answer matched the schema within the allowed attempts. {@link #attempts()} holds each model answer's raw
 * text and what was wrong with it. Kind MALFORMED_RESPONSE; not retryable (the attempts were the retries).
 */
public final class StructuredOutputException extends LlmException {
  private final List<Attempt> attempts;

  /** One model answer and its problems (never empty). */
  public record Attempt(String rawText, List<String> errors) {
    public Attempt {
      errors = List.copyOf(errors);
    }
  }

  public StructuredOutputException(String schemaName, List<Attempt> attempts) {
    super(ErrorKind.MALFORMED_RESPONSE, "no answer matched the schema '" + schemaName + "' in " + attempts.size()
        + " attempt(s); last problems: " + String.join("; ", attempts.get(attempts.size() - 1).errors()),
        null, false, "response_format");
    this.attempts = List.copyOf(attempts);
  }

  public List<Attempt> attempts() {
    return attempts;
  }
}
