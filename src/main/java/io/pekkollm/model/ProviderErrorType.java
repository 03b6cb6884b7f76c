package io.pekkollm.model;

import java.util.Objects;

/**
 * The error type string a provider put in its error body ({@code invalid_request_error},
 * {@code overloaded_error}, {@code RESOURCE_EXHAUSTED}, ...). An open value: kept exactly as sent.
 */
public final class ProviderErrorType {
  private final String value;

  private ProviderErrorType(String value) {
    this.value = value;
  }

  /** Null for null; otherwise the type, kept as sent. */
  public static ProviderErrorType of(String value) {
    return value == null || value.isEmpty() ? null : new ProviderErrorType(value);
  }

  public String value() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ProviderErrorType t && t.value.equals(value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
