package io.pekkollm.session;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Session ids: caller-chosen within {@link #RULE}, or {@code sess_} and 128 random bits in hex. */
final class SessionIds {
  static final String RULE = "1 to 64 letters, digits, '-' or '_'";
  private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private SessionIds() {}

  static boolean isValid(String id) {
    // "import" would shadow the POST /v1/sessions/import route.
    return id != null && VALID.matcher(id).matches() && !id.equals("import");
  }

  static String newId() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return "sess_" + HexFormat.of().formatHex(b);
  }
}
