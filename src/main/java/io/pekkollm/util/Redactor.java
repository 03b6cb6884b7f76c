package io.pekkollm.util;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from text that came from elsewhere (upstream error bodies and messages) before it is stored,
 * shown or logged: anything key-shaped ({@code sk-...} keys, {@code Bearer} tokens, Google {@code AIza...} keys,
 * AWS access key ids, {@code key=}/{@code token=} query values, long random-looking tokens) and, for an instance
 * made with {@link #of(Collection)}, the given secrets themselves wherever they occur. Each is replaced by
 * {@value #MASK}. Immutable and thread-safe.
 */
public final class Redactor {
  /** What a secret is replaced with. */
  public static final String MASK = "[REDACTED]";

  /** The key-shaped patterns only, for text whose secrets are not known. */
  public static final Redactor DEFAULT = new Redactor(List.of());

  // A secret shorter than this is not searched for by value: it would mask ordinary words.
  private static final int MIN_SECRET_LENGTH = 8;

  private static final Pattern KEY_SHAPED = Pattern.compile(String.join("|",
      // Bearer / Basic credentials in any header or message echo.
      "(?i)(?<=\\b(?:bearer|basic)\\s)[A-Za-z0-9._~+/=-]{8,}",
      // sk-..., sk-proj-..., sk-ant-..., rk-..., pk-... style keys, xai-..., gsk_..., hf_..., ghp_..., glpat-...
      "\\b(?:sk|rk|pk|xai|gsk|hf|ghp|gho|ghs|glpat|pplx|nvapi)[-_][A-Za-z0-9_-]{8,}",
      // Google API keys.
      "\\bAIza[0-9A-Za-z_-]{20,}",
      // AWS access key ids (long-term and temporary).
      "\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b",
      // key=..., api_key=..., token=..., secret=... in URLs, query strings and messages.
      "(?i)(?<=\\b(?:key|api[_-]?key|token|access[_-]?token|secret|password|x-goog-api-key)[=:])[^\\s&\"',;]{6,}"));

  // A run of at least 32 key characters that mixes letters and digits reads as a token (hex ids included). A
  // slash ends a run, so model ids and URL paths stay readable.
  private static final Pattern LONG_TOKEN = Pattern.compile("[A-Za-z0-9_+=-]{32,}");

  private final List<String> secrets;

  private Redactor(List<String> secrets) {
    this.secrets = secrets;
  }

  /**
   * The default patterns plus every secret in {@code secrets} (blank ones and those under 8 characters are
   * ignored; longest first, so a secret containing another is masked whole).
   */
  public static Redactor of(Collection<String> secrets) {
    List<String> kept = new ArrayList<>();
    for (String s : secrets) {
      if (s != null && s.strip().length() >= MIN_SECRET_LENGTH && !kept.contains(s.strip())) {
        kept.add(s.strip());
      }
    }
    kept.sort(Comparator.comparingInt(String::length).reversed());
    return new Redactor(List.copyOf(kept));
  }

  /** {@code text} with its secrets masked; null stays null. */
  public String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (String s : secrets) {
      out = out.replace(s, MASK);
    }
    out = KEY_SHAPED.matcher(out).replaceAll(MASK);
    Matcher m = LONG_TOKEN.matcher(out);
    if (!m.find()) {
      return out;
    }
    StringBuilder sb = new StringBuilder(out.length());
    int last = 0;
    do {
      if (looksRandom(m.group())) {
        sb.append(out, last, m.start()).append(MASK);
        last = m.end();
      }
    } while (m.find());
    return sb.append(out, last, out.length()).toString();
  }

  private static boolean looksRandom(String token) {
    boolean digit = false;
    boolean letter = false;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      digit |= Character.isDigit(c);
      letter |= Character.isLetter(c);
    }
    return digit && letter;
  }
}
