package io.pekkollm.recovery;

/**
 * Text rules of recovery, all in Unicode code points (the unit of {@code kept_chars}): never split a
 * surrogate pair, cut paragraphs only at paragraph breaks, and find the overlap a model repeats.
 */
final class Texts {
  private Texts() {}

  static int codePoints(String s) {
    return s.codePointCount(0, s.length());
  }

  /** The first {@code n} code points of {@code s}. */
  static String prefix(String s, int n) {
    if (n <= 0) {
      return "";
    }
    int cps = codePoints(s);
    return n >= cps ? s : s.substring(0, s.offsetByCodePoints(0, n));
  }

  /** {@code s} without its first {@code n} code points. */
  static String dropPrefix(String s, int n) {
    if (n <= 0) {
      return s;
    }
    int cps = codePoints(s);
    return n >= cps ? "" : s.substring(s.offsetByCodePoints(0, n));
  }

  /**
   * The text up to and including the last paragraph break (a blank line: two line ends, LF or CRLF), that is
   * {@code text} without its unfinished trailing paragraph. "" when there is no complete paragraph.
   */
  static String completeParagraphs(String text) {
    int best = -1;
    for (int i = text.length() - 1; i > 0; i--) {
      if (text.charAt(i) == '\n') {
        int j = i - 1;
        if (j >= 0 && text.charAt(j) == '\r') {
          j--;
        }
        if (j >= 0 && text.charAt(j) == '\n') {
          best = i + 1;
          break;
        }
      }
    }
    return best < 0 ? "" : text.substring(0, best);
  }

  /**
   * How many leading characters of {@code continuation} repeat the end of {@code kept}: the longest k with
   * {@code kept.endsWith(continuation[0:k])}, at least {@code minOverlap} long (shorter matches are
   * coincidence, e.g. a repeated " the"). Whitespace the model re-sends after a kept text that already ends in
   * whitespace counts as overlap too.
   */
  static int overlap(String kept, String continuation, int minOverlap) {
    int max = Math.min(kept.length(), continuation.length());
    for (int k = max; k >= minOverlap; k--) {
      // Never cut between the two halves of a surrogate pair.
      if (kept.regionMatches(kept.length() - k, continuation, 0, k)
          && !(k < continuation.length() && Character.isLowSurrogate(continuation.charAt(k)))) {
        return k;
      }
    }
    if (!kept.isEmpty() && Character.isWhitespace(kept.charAt(kept.length() - 1))) {
      int w = 0;
      while (w < continuation.length() && (continuation.charAt(w) == ' ' || continuation.charAt(w) == '\t')) {
        w++;
      }
      return w;
    }
    return 0;
  }

  /**
   * How many leading characters of {@code continuation} re-send the trailing whitespace of {@code kept}, for a
   * continuation of an assistant prefill, which is sent without that whitespace (providers reject it) and which
   * the model goes on from, re-sending it: the longest common start of the two, line ends included, so that a
   * paragraph break kept as {@code "\n\n"} and re-sent does not become four line ends. When none of it comes
   * back, leading spaces and tabs count (the model starts a word after the whitespace the text already has).
   */
  static int reSentWhitespace(String kept, String continuation) {
    int ws = kept.length();
    while (ws > 0 && Character.isWhitespace(kept.charAt(ws - 1))) {
      ws--;
    }
    if (ws == kept.length()) {
      return 0;
    }
    int w = 0;
    while (ws + w < kept.length() && w < continuation.length() && kept.charAt(ws + w) == continuation.charAt(w)) {
      w++;
    }
    if (w > 0) {
      return w;
    }
    while (w < continuation.length() && (continuation.charAt(w) == ' ' || continuation.charAt(w) == '\t')) {
      w++;
    }
    return w;
  }
}
