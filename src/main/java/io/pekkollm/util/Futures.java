package io.pekkollm.util;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Small helpers for {@link java.util.concurrent.CompletionStage} results. */
public final class Futures {
  private Futures() {}

  /**
   * The error a future actually failed with: {@link CompletionException} and {@link ExecutionException} wrappers
   * (added by callbacks and {@code get}) removed. Null stays null.
   */
  public static Throwable cause(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
