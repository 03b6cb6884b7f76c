package io.pekkollm.util;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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

  /**
   * Completes {@code target} as {@code source} completes, with its value or its error (unwrapped by
   * {@link #cause}). For a future that must exist before the stage it mirrors does, e.g. before a stream is
   * materialized.
   */
  public static <T> void completeWith(CompletableFuture<T> target, CompletionStage<? extends T> source) {
    source.whenComplete((value, error) -> {
      if (error != null) {
        target.completeExceptionally(cause(error));
      } else {
        target.complete(value);
      }
    });
  }
}
