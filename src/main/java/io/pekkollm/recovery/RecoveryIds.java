package io.pekkollm.recovery;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Recovery ids: 128 random bits in hex, made by {@link #newId()}. What callers send back is checked with
 * {@link #isValid} before it reaches the journal, so a malformed id (a space, {@code ../}, {@code %}, a megabyte)
 * is answered as unknown without starting an entity or reading the journal.
 */
final class RecoveryIds {
  /** Wider than what {@link #newId()} makes, so ids of older or other writers stay readable. */
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private RecoveryIds() {}

  static boolean isValid(String id) {
    return id != null && VALID.matcher(id).matches();
  }

  /** 128 random bits, hex: unguessable, since it grants access to the stream's text. */
  static String newId() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
