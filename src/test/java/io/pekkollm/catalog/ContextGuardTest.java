package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ContextGuardTest {
  private static final TokenCounter TOKENS = TokenCounter.shared();
  /** An OpenAI-family model (exact counts: o200k_base) with a window of 1000 tokens. */
  private static final String EXACT = "openai/gpt-4o-small-window";
  /** A model counted by estimate, with a window of 1000 tokens. */
  private static final String ESTIMATED = "mock/small-window";

  private static final ContextGuard GUARD = ContextGuard.create(ModelCatalog.of(List.of(
      ModelEntry.builder("openai", "gpt-4o-small-window").contextWindow(1000).build(),
      ModelEntry.builder("mock", "small-window").contextWindow(1000).build(),
      ModelEntry.builder("openai", "no-window").build())));

  private static int cost(Message m) {
    return TOKENS.countMessages(EXACT, List.of(m)).tokens() - TokenCounter.REPLY_PRIMING;
  }

  private static String words(int n, String word) {
    return (word + " ").repeat(n).trim();
  }

  @Test
  void unknownModelsAndWindowsAreNotChecked() {
    String huge = "x ".repeat(200_000);
    for (String model : new String[] {"openai/not-in-the-catalog", "openai/no-window", "nosuch/provider"}) {
      ChatRequest r = ChatRequest.builder(model).user(huge).maxTokens(1_000_000).build();
      ContextFit fit = GUARD.fit(r);
      assertSame(r, fit.request(), model);
      assertTrue(fit.truncation().isEmpty());
    }
  }

  @Test
  void rejectsARequestThatCannotFitNamingTheNumbers() {
    ChatRequest r = ChatRequest.builder(EXACT).user(words(600, "hello")).maxTokens(500).build();
    int input = TOKENS.count(r).tokens();
    assertTrue(TOKENS.count(r).exact());
    assertTrue(input > 500 && input < 1000, "input " + input);
    LlmException e = assertThrows(LlmException.class, () -> GUARD.fit(r));
    assertEquals(ErrorKind.CONTEXT_LENGTH_EXCEEDED, e.kind());
    assertEquals(400, e.httpStatus());
    assertEquals("messages", e.param());
    assertEquals("model 'openai/gpt-4o-small-window' has a context window of 1000 tokens, but the request needs "
        + (input + 500) + " tokens (" + input + " input + 500 max_tokens). Shorten the messages, lower max_tokens, "
        + "or ask for truncation (\"sliding_window\" or \"smart\").", e.getMessage());
  }

  @Test
  void aRequestThatFillsTheWindowExactlyFits() {
    ChatRequest r = ChatRequest.builder(EXACT).user(words(600, "hello")).build();
    int input = TOKENS.count(r).tokens();
    ContextFit fit = GUARD.fit(r.withMaxTokens(1000 - input));
    assertTrue(fit.truncation().isEmpty());
    assertEquals(r.messages(), fit.request().messages());
    assertThrows(LlmException.class, () -> GUARD.fit(r.withMaxTokens(1000 - input + 1)));
  }

  @Test
  void estimatesGetAToleranceBeforeRejecting() {
    // Counted with cl100k_base as an estimate: reject only beyond the window + 10%.
    ChatRequest r = ChatRequest.builder(ESTIMATED).user(words(600, "hello")).build();
    TokenCount c = TOKENS.count(r);
    assertFalse(c.exact());
    int within = 1100 - c.tokens();
    assertTrue(GUARD.fit(r.withMaxTokens(within)).truncation().isEmpty());
    LlmException e = assertThrows(LlmException.class, () -> GUARD.fit(r.withMaxTokens(within + 1)));
    assertTrue(e.getMessage().contains("tokens (estimated)"), e.getMessage());
  }

  @Test
  void theCheapBoundNeverUndercounts() throws IOException {
    JsonNode schema = Json.parse("{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\","
        + "\"description\":\"the query, in any language\",\"enum\":[\"a\",\"b\"]},\"n\":{\"type\":\"array\","
        + "\"items\":{\"type\":\"integer\"}}}}");
    List<ChatRequest> requests = List.of(
        ChatRequest.builder(EXACT).user("hello world").build(),
        ChatRequest.builder(EXACT).system("日本語のテキスト、絵文字 🎉🎉🎉 and ascii").user("お誕生日おめでとう").build(),
        ChatRequest.builder(EXACT).user("\u0000\u0001 binary-ish \uFFFD\uFFFD").build(),
        ChatRequest.builder(EXACT).user("q").tools(List.of(ToolDefinition.of("search", "Search.", schema),
            ToolDefinition.of("x", null, null))).build(),
        ChatRequest.builder(EXACT).user("weather?")
            .addMessage(Message.assistant(null, List.of(new ToolCall("c1", "get", "{\"city\":\"Zürich\"}"))))
            .addMessage(Message.tool("c1", "18°C")).build(),
        ChatRequest.builder(EXACT).addMessage(new Message.User(List.of(ContentPart.text("hi")), "ann")).build());
    for (ChatRequest r : requests) {
      for (String model : new String[] {EXACT, ESTIMATED, "openai/gpt-4", "anthropic/claude-3-5-haiku-20241022"}) {
        long bound = ContextGuard.upperBound(r);
        int count = TOKENS.count(model, r).tokens();
        assertTrue(bound >= count, model + " " + r + ": bound " + bound + " < count " + count);
      }
    }
    assertEquals(-1, ContextGuard.upperBound(ChatRequest.builder(EXACT)
        .addMessage(Message.user(List.of(ContentPart.imageUrl("https://example.com/a.png")))).build()));
  }

  /** {@code n} random ASCII letters and digits: one "word", the worst case of byte-pair encoding. */
  private static String alnumWord(int n, long seed) {
    String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    java.util.Random r = new java.util.Random(seed);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  @Test
  void theLowerBoundsConstantsHoldForEveryTokenOfBothVocabularies() {
    for (var type : new com.knuddels.jtokkit.api.EncodingType[] {com.knuddels.jtokkit.api.EncodingType.CL100K_BASE,
        com.knuddels.jtokkit.api.EncodingType.O200K_BASE}) {
      var encoding = com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry().getEncoding(type);
      int longest = 0;
      int longestRun = 0;
      int decoded = 0;
      for (int id = 0; id < 201_000; id++) {
        var ids = new com.knuddels.jtokkit.api.IntArrayList();
        ids.add(id);
        byte[] bytes;
        try {
          bytes = encoding.decodeBytes(ids);
        } catch (RuntimeException e) {
          continue; // no token with this id
        }
        decoded++;
        longest = Math.max(longest, bytes.length);
        int run = 0;
        for (byte b : bytes) {
          boolean alnum = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9');
          run = alnum ? run + 1 : 0;
          longestRun = Math.max(longestRun, run);
        }
      }
      assertTrue(decoded > 100_000, type + ": " + decoded + " tokens");
      assertTrue(longest <= ContextGuard.MAX_TOKEN_BYTES, type + ": a token of " + longest + " bytes");
      assertTrue(longestRun <= ContextGuard.MAX_ALNUM_RUN, type + ": a run of " + longestRun);
    }
  }

  @Test
  void theLowerBoundNeverOvercounts() {
    java.util.Random r = new java.util.Random(7);
    List<String> texts = new ArrayList<>(List.of("", "hello world", words(300, "hello"), "a".repeat(5000),
        alnumWord(20_000, 1), " ".repeat(3000), "=".repeat(3000), "日本語のテキスト🎉".repeat(300),
        alnumWord(500, 2) + " " + alnumWord(900, 3) + "." + alnumWord(41, 4) + alnumWord(3, 5),
        "https://example.com/" + alnumWord(4000, 6) + "?q=" + alnumWord(300, 7)));
    for (int i = 0; i < 30; i++) {
      StringBuilder sb = new StringBuilder();
      for (int j = 0; j < 20; j++) {
        sb.append(alnumWord(r.nextInt(200), r.nextLong())).append(" .-/\n".charAt(r.nextInt(5)));
      }
      texts.add(sb.toString());
    }
    for (String t : texts) {
      for (String model : new String[] {EXACT, ESTIMATED}) {
        long bound = ContextGuard.lowerBound(t);
        int count = TOKENS.countText(model, t);
        assertTrue(bound <= count, model + ": bound " + bound + " > count " + count + " for " + t.length() + " chars");
      }
      ChatRequest req = ChatRequest.builder(EXACT).system(t).user(t).build();
      long least = TokenCounter.REPLY_PRIMING + req.messages().stream().mapToLong(ContextGuard::lowerBound).sum();
      assertTrue(least <= TOKENS.count(req).tokens());
    }
    // One long word: at most 41 letters per token, so at least a 41st of its length, less the two ends.
    assertEquals(1_000_000 / 41 + 1 - 2, ContextGuard.lowerBound(alnumWord(1_000_000, 8)));
  }

  @Test
  void aRequestWhoseLengthProvesItCannotFitIsRejectedWithoutTokenizing() {
    // 45,000 letters are at least 1,095 tokens: more than the window, and the window + 10% for an estimate.
    String word = alnumWord(45_000, 9);
    for (String model : new String[] {EXACT, ESTIMATED}) {
      LlmException e = assertThrows(LlmException.class,
          () -> GUARD.fit(ChatRequest.builder(model).user(word).build()));
      assertEquals(ErrorKind.CONTEXT_LENGTH_EXCEEDED, e.kind());
      assertEquals("messages", e.param());
      assertTrue(e.getMessage().contains("but the request needs at least")
          && e.getMessage().contains("a lower bound from its length: it was not tokenized"), e.getMessage());
      // With truncation the newest message must be kept, and it alone cannot fit.
      e = assertThrows(LlmException.class, () -> GUARD.fit(ChatRequest.builder(model).user("old").user(word)
          .truncation(TruncationStrategy.SLIDING_WINDOW).build()));
      assertTrue(e.getMessage().contains("even after sliding_window truncation the request needs at least")
          && e.getMessage().contains("not tokenized"), e.getMessage());
    }
    // Within the bound, counting decides: 1,100 estimated tokens is within the tolerance of the estimate.
    String fits = alnumWord(30_000, 10);
    assertTrue(ContextGuard.lowerBound(fits) + 7 <= 1000);
    LlmException counted = assertThrows(LlmException.class,
        () -> GUARD.fit(ChatRequest.builder(ESTIMATED).user(fits).build()));
    assertFalse(counted.getMessage().contains("not tokenized"), counted.getMessage());
  }

  // ------------------------------------------------------------------ truncation

  /** Five turns of about 200 tokens after a short system message: with max_tokens 200, three turns fit. */
  private static ChatRequest conversation(TruncationStrategy strategy) {
    return ChatRequest.builder(EXACT)
        .system("You are terse.")
        .user("first: " + words(200, "task"))
        .assistant("a1 " + words(200, "reply"))
        .user("u2 " + words(200, "more"))
        .assistant("a2 " + words(200, "reply"))
        .user("u3 " + words(200, "newest"))
        .maxTokens(200)
        .truncation(strategy)
        .build();
  }

  private static List<String> firstWords(List<Message> messages) {
    return messages.stream().map(m -> m.text().split(" ")[0]).toList();
  }

  @Test
  void slidingWindowKeepsSystemMessagesAndTheNewestTurnsThatFit() {
    ChatRequest r = conversation(TruncationStrategy.SLIDING_WINDOW);
    int before = TOKENS.count(r).tokens();
    assertTrue(before + 200 > 1000);
    ContextFit fit = GUARD.fit(r);
    assertEquals(List.of("You", "u2", "a2", "u3"), firstWords(fit.request().messages()));
    TruncationReport t = fit.truncation().orElseThrow();
    assertEquals(new TruncationReport(TruncationStrategy.SLIDING_WINDOW, 6, 2, before,
        TOKENS.count(fit.request()).tokens(), true), t);
    assertEquals(4, t.messagesAfter());
    assertTrue(t.tokensAfter() + 200 <= 1000);
    assertEquals(r.maxTokens(), fit.request().maxTokens());
  }

  @Test
  void smartKeepsTheFirstUserMessageAndDropsTheMiddle() {
    ContextFit fit = GUARD.fit(conversation(TruncationStrategy.SMART));
    assertEquals(List.of("You", "first:", "a2", "u3"), firstWords(fit.request().messages()));
    assertEquals(2, fit.truncation().orElseThrow().messagesDropped());
  }

  @Test
  void aFittingRequestIsNotTruncated() {
    ChatRequest r = ChatRequest.builder(EXACT).user("hi").truncation(TruncationStrategy.SMART).build();
    ContextFit fit = GUARD.fit(r);
    assertSame(r, fit.request());
    assertTrue(fit.truncation().isEmpty());
  }

  @Test
  void failsWhenEvenTheNewestMessageCannotFit() {
    ChatRequest r = ChatRequest.builder(EXACT).system("s").user("old").user(words(990, "big"))
        .truncation(TruncationStrategy.SLIDING_WINDOW).build();
    LlmException e = assertThrows(LlmException.class, () -> GUARD.fit(r));
    assertEquals(ErrorKind.CONTEXT_LENGTH_EXCEEDED, e.kind());
    assertTrue(e.getMessage().contains("even after sliding_window truncation the request needs at least"),
        e.getMessage());
    ChatRequest hugeSystem = ChatRequest.builder(EXACT).system(words(990, "rule")).user("hi")
        .truncation(TruncationStrategy.SMART).build();
    e = assertThrows(LlmException.class, () -> GUARD.fit(hugeSystem));
    assertTrue(e.getMessage().contains("the system messages, the first user message and the newest message"),
        e.getMessage());
  }

  /** An agent conversation: tool-call turns with one or two results each, between user messages. */
  private static List<Message> agentConversation() {
    List<Message> ms = new ArrayList<>();
    ms.add(Message.system("You use tools."));
    ms.add(Message.user("task " + words(30, "do")));
    for (int turn = 0; turn < 6; turn++) {
      List<ToolCall> calls = new ArrayList<>();
      for (int c = 0; c <= turn % 2; c++) {
        calls.add(new ToolCall("call_" + turn + "_" + c, "lookup", "{\"q\":\"" + words(10, "arg") + "\"}"));
      }
      ms.add(Message.assistant(null, calls));
      for (ToolCall c : calls) {
        ms.add(Message.tool(c.id(), "result " + words(20 + 7 * turn, "data")));
      }
      if (turn % 3 == 2) {
        ms.add(Message.user("and then " + words(5, "more")));
      }
    }
    ms.add(Message.assistant("done " + words(10, "ok")));
    ms.add(Message.user("newest question"));
    return ms;
  }

  @Test
  void neverSplitsAToolCallFromItsResultsAtAnyBudget() {
    List<Message> ms = agentConversation();
    int[] cost = ms.stream().mapToInt(ContextGuardTest::cost).toArray();
    int total = 0;
    for (int c : cost) {
      total += c;
    }
    for (TruncationStrategy strategy : TruncationStrategy.values()) {
      int kept = 0;
      for (int budget = 0; budget <= total; budget++) {
        boolean[] keep = ContextGuard.select(ms, cost, strategy, budget);
        List<Message> out = new ArrayList<>();
        long used = 0;
        for (int i = 0; i < keep.length; i++) {
          if (keep[i]) {
            out.add(ms.get(i));
            used += cost[i];
          }
        }
        if (out.isEmpty()) {
          continue;
        }
        kept++;
        assertTrue(used <= budget, strategy + " budget " + budget + " used " + used);
        assertEquals("newest question", out.get(out.size() - 1).text(), "the newest message is always kept");
        assertTrue(out.get(0) instanceof Message.System, "system messages are always kept");
        if (strategy == TruncationStrategy.SMART) {
          assertTrue(out.get(1).text().startsWith("task "), "smart keeps the first user message");
        }
        assertToolPairsIntact(out, strategy + " budget " + budget);
        assertContiguousSuffix(ms, keep, strategy);
      }
      assertTrue(kept > total / 2, strategy + ": most budgets give a result");
    }
  }

  private static void assertToolPairsIntact(List<Message> out, String where) {
    Set<String> open = new HashSet<>();
    for (Message m : out) {
      if (m instanceof Message.Assistant a && !a.toolCalls().isEmpty()) {
        assertTrue(open.isEmpty(), where + ": calls left without results " + open);
        a.toolCalls().forEach(c -> open.add(c.id()));
      } else if (m instanceof Message.Tool t) {
        assertTrue(open.remove(t.toolCallId()), where + ": a tool result without its call " + t.toolCallId());
      } else {
        assertTrue(open.isEmpty(), where + ": calls left without results " + open);
      }
    }
    assertTrue(open.isEmpty(), where + ": calls left without results " + open);
  }

  /** Apart from pinned messages, what is kept is the newest run: nothing older than a dropped message. */
  private static void assertContiguousSuffix(List<Message> ms, boolean[] keep, TruncationStrategy strategy) {
    boolean dropped = false;
    for (int i = ms.size() - 1; i >= 0; i--) {
      boolean pinned = ms.get(i) instanceof Message.System || (strategy == TruncationStrategy.SMART && i == 1);
      if (pinned) {
        continue;
      }
      if (!keep[i]) {
        dropped = true;
      } else {
        assertFalse(dropped, "kept message " + i + " is older than a dropped one");
      }
    }
  }

  @Test
  void truncationThroughFitKeepsToolTurnsWhole() {
    List<Message> ms = agentConversation();
    ChatRequest r = ChatRequest.builder(EXACT).messages(ms).truncation(TruncationStrategy.SLIDING_WINDOW).build();
    int total = TOKENS.count(r).tokens();
    ChatRequest tight = r.withMaxTokens(1000 - total / 2);
    ContextFit fit = GUARD.fit(tight);
    TruncationReport t = fit.truncation().orElseThrow();
    assertTrue(t.messagesDropped() > 0);
    assertToolPairsIntact(fit.request().messages(), "fit");
    assertEquals(TOKENS.count(fit.request()).tokens(), t.tokensAfter());
    assertTrue(t.tokensAfter() + tight.maxTokens() <= 1000);
  }
}
