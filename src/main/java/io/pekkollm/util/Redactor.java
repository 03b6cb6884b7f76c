package io.pekkollm.util;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from text that came from elsewhere (upstream error bodies and messages) before it is stored,
 * shown or logged: anything key-shaped ({@code sk-...} keys, {@code Bearer} tokens, Google {@code AIza...} keys,
 * AWS access key ids, {@code key=}/{@code token=} query values, long random-looking tokens) and, for an instance
 * made with {@link #of(Collection)}, the given secrets themselves wherever they occur, AWS SigV4 signatures and
 * credentials, and whatever {@linkplain #withPatterns configured patterns} match. Each is replaced by
 * {@value #MASK}. {@link #withPiiMasking()} also masks e-mail addresses, phone numbers and payment card numbers
 * ({@value #EMAIL}, {@value #PHONE}, {@value #CARD}). Header values go through {@link #redactHeader}, which masks
 * credential headers ({@code Authorization}, {@code x-api-key}, {@code x-goog-api-key}, AWS tokens, cookies)
 * whole. This is the one redactor for everything logged, stored or shown: error bodies, logged request and
 * response bodies and headers, callback sinks. Immutable and thread-safe.
 */
public final class Redactor {
  /** What a secret is replaced with. */
  public static final String MASK = "[REDACTED]";
  /** What an e-mail address is replaced with under {@link #withPiiMasking()}. */
  public static final String EMAIL = "[EMAIL]";
  /** What a phone number is replaced with under {@link #withPiiMasking()}. */
  public static final String PHONE = "[PHONE]";
  /** What a payment card number (Luhn-valid, 13 to 19 digits) is replaced with under {@link #withPiiMasking()}. */
  public static final String CARD = "[CARD]";

  /** Headers whose whole value is a credential (lower case). */
  private static final Set<String> CREDENTIAL_HEADERS = Set.of("authorization", "proxy-authorization", "x-api-key",
      "api-key", "x-goog-api-key", "x-amz-security-token", "cookie", "set-cookie", "x-auth-token");

  /** The key-shaped patterns only, for text whose secrets are not known. */
  public static final Redactor DEFAULT = new Redactor(List.of(), List.of(), false);

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
      "(?i)(?<=\\b(?:key|api[_-]?key|token|access[_-]?token|secret|password|x-goog-api-key)[=:])[^\\s&\"',;]{6,}",
      // AWS SigV4: the signature and credential of an Authorization header or a presigned URL's query.
      "(?i)(?<=\\b(?:signature|credential|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^\\s&\"',;]{6,}"));

  private static final Pattern EMAIL_PATTERN = Pattern.compile(
      "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}");
  // 13 to 19 digits, optionally grouped by single spaces or dashes; kept only when the Luhn check passes.
  private static final Pattern CARD_PATTERN = Pattern.compile("(?<![\\d-])\\d(?:[ -]?\\d){12,18}(?![\\d-])");
  // International (+ and 7 to 15 digits) or grouped national numbers such as (555) 123-4567 or 030 1234 5678.
  private static final Pattern PHONE_PATTERN = Pattern.compile(
      "(?<![\\w+])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}[ .-]\\d{3,4}(?:[ .-]\\d{2,4})?(?![\\w])"
      + "|(?<![\\w+])\\+\\d{7,15}(?!\\w)");

  // A run of at least 32 key characters that mixes letters and digits reads as a token (hex ids included). A
  // slash ends a run, so model ids and URL paths stay readable.
  private static final Pattern LONG_TOKEN = Pattern.compile("[A-Za-z0-9_+=-]{32,}");

  private final List<String> secrets;
  private final List<Pattern> patterns;
  private final boolean maskPii;

  private Redactor(List<String> secrets, List<Pattern> patterns, boolean maskPii) {
    this.secrets = secrets;
    this.patterns = patterns;
    this.maskPii = maskPii;
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
    return new Redactor(List.copyOf(kept), List.of(), false);
  }

  /**
   * This redactor, also masking whatever matches one of {@code regexes} (Java regular expressions, e.g. an
   * internal token format). Fails with IllegalArgumentException naming a pattern that does not compile.
   */
  public Redactor withPatterns(Collection<String> regexes) {
    List<Pattern> all = new ArrayList<>(patterns);
    for (String r : regexes) {
      try {
        all.add(Pattern.compile(r));
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new IllegalArgumentException("not a valid redaction pattern: '" + r + "': " + e.getDescription(), e);
      }
    }
    return new Redactor(secrets, List.copyOf(all), maskPii);
  }

  /** This redactor, also masking e-mail addresses, phone numbers and (Luhn-valid) payment card numbers. */
  public Redactor withPiiMasking() {
    return new Redactor(secrets, patterns, true);
  }

  /**
   * A header's value as it may be logged: masked whole for a credential header ({@code Authorization},
   * {@code x-api-key}, {@code x-goog-api-key}, AWS session tokens, cookies, and any name mentioning a key, token,
   * secret, signature or password), else {@link #redact redacted} like any text.
   */
  public String redactHeader(String name, String value) {
    String n = name.toLowerCase(Locale.ROOT);
    if (CREDENTIAL_HEADERS.contains(n) || n.contains("key") || n.contains("token") || n.contains("secret")
        || n.contains("signature") || n.contains("password") || n.contains("auth")) {
      return MASK;
    }
    return redact(value);
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
    for (Pattern p : patterns) {
      out = p.matcher(out).replaceAll(MASK);
    }
    if (maskPii) {
      out = maskPii(out);
    }
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

  private static String maskPii(String text) {
    String out = EMAIL_PATTERN.matcher(text).replaceAll(EMAIL);
    out = CARD_PATTERN.matcher(out).replaceAll(r -> luhn(r.group()) ? CARD : Matcher.quoteReplacement(r.group()));
    return PHONE_PATTERN.matcher(out).replaceAll(PHONE);
  }

  private static boolean luhn(String digitsWithSeparators) {
    int sum = 0;
    boolean twice = false;
    for (int i = digitsWithSeparators.length() - 1; i >= 0; i--) {
      char c = digitsWithSeparators.charAt(i);
      if (c < '0' || c > '9') {
        continue;
      }
      int d = c - '0';
      if (twice) {
        d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      }
      sum += d;
      twice = !twice;
    }
    return sum % 10 == 0;
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
