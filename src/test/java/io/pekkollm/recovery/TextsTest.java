package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TextsTest {

  @Test
  void codePointsNeverSplitSurrogatePairs() {
    String s = "a🌍b東";
    assertEquals(4, Texts.codePoints(s));
    assertEquals("a🌍", Texts.prefix(s, 2));
    assertEquals("b東", Texts.dropPrefix(s, 2));
    assertEquals(s, Texts.prefix(s, 99));
    assertEquals("", Texts.dropPrefix(s, 99));
  }

  @Test
  void paragraphsEndAtBlankLinesInLfOrCrlf() {
    assertEquals("", Texts.completeParagraphs("one unfinished paragraph"));
    assertEquals("first.\n\n", Texts.completeParagraphs("first.\n\nsecond is cut"));
    assertEquals("a\n\nb\n\n", Texts.completeParagraphs("a\n\nb\n\nc"));
    assertEquals("a\r\n\r\n", Texts.completeParagraphs("a\r\n\r\nb"));
    assertEquals("line\nline\n\n", Texts.completeParagraphs("line\nline\n\nnext"), "a single newline is not a paragraph");
    assertEquals("done.\n\n", Texts.completeParagraphs("done.\n\n"), "a finished paragraph is kept whole");
    // Combining marks and emoji before the break are kept intact.
    assertEquals("Cafe\u0301 🌍.\n\n", Texts.completeParagraphs("Cafe\u0301 🌍.\n\n東京"));
  }

  @Test
  void overlapFindsTheRepeatedTailButIgnoresShortCoincidences() {
    String kept = "The tide rises twice a day because ";
    assertEquals("twice a day because ".length(), Texts.overlap(kept, "twice a day because the moon pulls", 12));
    assertEquals(0, Texts.overlap(kept, "the moon pulls", 12), "no repeat");
    assertEquals(0, Texts.overlap("... and the ", "the moon", 12), "' the' alone is coincidence");
    assertEquals(1, Texts.overlap("ends with a space ", " next", 12), "re-sent whitespace after whitespace");
    assertEquals(4, Texts.overlap("emoji 🌍🌍", "🌍🌍 more", 4), "surrogate pairs stay whole");
  }

  @Test
  void aPrefillsReSentParagraphBreakIsTrimmedButTheNextParagraphsIndentIsNot() {
    assertEquals(2, Texts.reSentWhitespace("First.\n\n", "\n\nSecond"), "the break a prefill stripped, re-sent");
    assertEquals(1, Texts.reSentWhitespace("First.\n\n", "\nSecond"), "part of it");
    assertEquals(4, Texts.reSentWhitespace("First.\r\n\r\n", "\r\n\r\nSecond"), "CRLF");
    assertEquals(2, Texts.reSentWhitespace("First.\n\n", "\n\n    code"), "indentation after the break stays");
    assertEquals(2, Texts.reSentWhitespace("First.\n\n", "  Second"), "leading spaces after a break, as before");
    assertEquals(0, Texts.reSentWhitespace("First.\n\n", "Second"));
    assertEquals(1, Texts.reSentWhitespace("Die Gezeiten ", " und"));
    assertEquals(0, Texts.reSentWhitespace("no whitespace", "\n\nnext"));
  }
}
