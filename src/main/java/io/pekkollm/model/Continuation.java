package io.pekkollm.model;

/**
 * The wording by which a resumed stream asks a model to continue its interrupted answer, where the provider has
 * no assistant prefill: the kept text goes as an assistant turn, followed by a user turn of exactly
 * {@link #INSTRUCTION}. Shared by the journal's resume and by the mock provider, which answers it exactly.
 */
public final class Continuation {
  /** The instruction that follows the kept text. */
  public static final String INSTRUCTION = "Your previous answer was cut off. Continue it exactly where it stopped: "
      + "start with the very next characters, do not repeat anything already written, and do not comment on the "
      + "interruption.";

  private Continuation() {}
}
