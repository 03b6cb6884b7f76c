package io.pekkollm.catalog;

/**
 * The answer of {@link ModelCatalog#supports}: the catalog lists the capability, lists the model without it,
 * or does not know the model at all. Unknown is not "no": the catalog never guesses.
 */
public enum Support {
  SUPPORTED,
  UNSUPPORTED,
  UNKNOWN;

  /** True only for {@link #SUPPORTED}. */
  public boolean isSupported() {
    return this == SUPPORTED;
  }
}
