package io.pekkollm.catalog;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps requests inside their model's context window: {@code input tokens + max_tokens ≤ context window}.
 *
 * <p>{@link #fit} returns a request that fits, or throws {@link LlmException} of kind
 * {@code CONTEXT_LENGTH_EXCEEDED} (HTTP 400 {@code context_length_exceeded} at the gateway) naming the numbers.
 * When the request has a {@link ChatRequest#truncation() truncation strategy}, messages are dropped instead:
 * <ul>
 *   <li>every system message is kept, in place;</li>
 *   <li>{@code sliding_window} keeps the newest messages that fit; {@code smart} keeps the first user message
 *   too and drops from the middle. Dropped messages are removed, not summarized: a summary needs a model call
 *   of its own, which a later version may add behind this same strategy name;</li>
 *   <li>an assistant message with tool calls and the tool results right after it are kept or dropped together,
 *   never split (providers reject a tool result without its call, and a call without its result);</li>
 *   <li>what is kept is a contiguous run of the newest messages (plus the pinned ones): an older message is
 *   never kept after a newer one was dropped.</li>
 * </ul>
 *
 * <p><b>Cost.</b> Nothing is counted when the model or its window is unknown. Otherwise a cheap upper bound
 * comes first: a BPE token covers at least one UTF-8 byte and a UTF-16 char is at most three bytes, so
 * {@code 3 × characters} plus the per-message overhead bounds the count without tokenizing. Only a request
 * whose bound exceeds the window (or that holds images) is looked at further. Then a cheap lower bound: no
 * token of {@code cl100k_base} or {@code o200k_base} is longer than {@value #MAX_TOKEN_BYTES} bytes or holds
 * more than {@value #MAX_ALNUM_RUN} ASCII letters and digits in a row, so a request whose length already proves
 * it cannot fit is rejected without tokenizing (a megabyte-long "word" costs a scan, not seconds of byte-pair
 * merges). Only what is left is tokenized with {@link TokenCounter}.
 *
 * <p><b>Estimates.</b> When the count is an estimate ({@link TokenCount#exact()} false: models without a
 * public tokenizer, tool definitions, images of unknown size), a request is rejected only when it exceeds the
 * window by more than {@value #ESTIMATE_TOLERANCE_PERCENT}%, because the provider is the authority and a
 * false rejection is worse than the provider's own error; truncation aims the same margin below the window.
 *
 * <p>Immutable and thread-safe.
 */
public final class ContextGuard {
  /** Tolerance applied to estimated counts, in percent of the window. */
  public static final int ESTIMATE_TOLERANCE_PERCENT = 10;

  private final ModelCatalog catalog;
  private final TokenCounter counter;

  private ContextGuard(ModelCatalog catalog, TokenCounter counter) {
    this.catalog = catalog;
    this.counter = counter;
  }

  public static ContextGuard create(ModelCatalog catalog) {
    return new ContextGuard(catalog, TokenCounter.shared());
  }

  /**
   * The request to send for {@code request} (whose model is {@code provider/model}): unchanged when it fits or
   * its window is unknown, shortened when it does not fit and asks for truncation. Throws
   * {@code CONTEXT_LENGTH_EXCEEDED} when it cannot fit.
   */
  public ContextFit fit(ChatRequest request) {
    ModelEntry entry = catalog.get(request.model());
    if (entry == null || entry.contextWindow().isEmpty()) {
      return new ContextFit(request, Optional.empty());
    }
    int window = entry.contextWindow().getAsInt();
    long maxTokens = request.maxTokens() == null ? 0 : request.maxTokens();
    long bound = upperBound(request);
    if (bound >= 0 && bound + maxTokens <= window) {
      return new ContextFit(request, Optional.empty());
    }
    rejectByLowerBound(request, entry.id(), window, maxTokens);
    return fitCounted(request, entry.id(), window, maxTokens);
  }

  /**
   * Throws {@code CONTEXT_LENGTH_EXCEEDED} when the request's lower bound already exceeds what counting would
   * allow: the window for a model counted with its own tokenizer (the real count is at least the bound), the
   * window plus the estimate tolerance otherwise. With truncation, the messages it must keep are bounded.
   */
  private void rejectByLowerBound(ChatRequest request, String model, int window, long maxTokens) {
    boolean exactText = counter.forModel(model).exactText();
    long rejectAbove = exactText ? window : window + (long) window * ESTIMATE_TOLERANCE_PERCENT / 100;
    List<Message> messages = request.messages();
    int[] least = new int[messages.size()];
    long input = TokenCounter.REPLY_PRIMING;
    for (int i = 0; i < least.length; i++) {
      least[i] = (int) Math.min(Integer.MAX_VALUE, lowerBound(messages.get(i)));
      input += least[i];
    }
    TruncationStrategy strategy = request.truncation();
    long needed = strategy == null ? input : TokenCounter.REPLY_PRIMING + mustKeep(messages, least, strategy);
    if (needed + maxTokens > rejectAbove) {
      throw exceeded(model, window, needed, maxTokens, exactText, strategy, true);
    }
  }

  private ContextFit fitCounted(ChatRequest request, String model, int window, long maxTokens) {
    TokenCounter.ModelTokens mt = counter.forModel(model);
    List<Message> messages = request.messages();
    int[] cost = new int[messages.size()];
    boolean exact = mt.exactText() && request.tools().isEmpty()
        && (request.responseFormat() == null || request.responseFormat().schema() == null);
    long fixed = TokenCounter.REPLY_PRIMING + mt.tools(request.tools()) + mt.responseFormat(request.responseFormat());
    long input = fixed;
    for (int i = 0; i < cost.length; i++) {
      cost[i] = mt.message(messages.get(i));
      input += cost[i];
      exact &= mt.exact(messages.get(i));
    }
    long rejectAbove = exact ? window : window + (long) window * ESTIMATE_TOLERANCE_PERCENT / 100;
    TruncationStrategy strategy = request.truncation();
    if (strategy == null) {
      if (input + maxTokens > rejectAbove) {
        throw exceeded(model, window, input, maxTokens, exact, null);
      }
      return new ContextFit(request, Optional.empty());
    }
    long target = exact ? window : (long) window * 100 / (100 + ESTIMATE_TOLERANCE_PERCENT);
    if (input + maxTokens <= target) {
      return new ContextFit(request, Optional.empty());
    }
    boolean[] keep = select(messages, cost, strategy, target - fixed - maxTokens);
    List<Message> kept = new ArrayList<>(messages.size());
    long after = fixed;
    for (int i = 0; i < keep.length; i++) {
      if (keep[i]) {
        kept.add(messages.get(i));
        after += cost[i];
      }
    }
    if (kept.isEmpty()) {
      throw exceeded(model, window, fixed + mustKeep(messages, cost, strategy), maxTokens, exact, strategy);
    }
    if (after + maxTokens > rejectAbove) {
      throw exceeded(model, window, after, maxTokens, exact, strategy);
    }
    TruncationReport report = new TruncationReport(strategy, messages.size(), messages.size() - kept.size(),
        (int) Math.min(Integer.MAX_VALUE, input), (int) Math.min(Integer.MAX_VALUE, after), exact);
    return new ContextFit(request.withMessages(kept), Optional.of(report));
  }

  /**
   * Which messages to keep so that their tokens are at most {@code budget}: the pinned ones (system messages,
   * and for {@code smart} the first user message), then whole units from the newest back, stopping at the
   * first unit that does not fit. Returns all false when the pinned messages and the newest unpinned unit
   * cannot fit together.
   */
  static boolean[] select(List<Message> messages, int[] cost, TruncationStrategy strategy, long budget) {
    int n = messages.size();
    boolean[] pinned = new boolean[n];
    boolean[] keep = new boolean[n];
    long left = budget;
    boolean firstUserSeen = false;
    for (int i = 0; i < n; i++) {
      Message m = messages.get(i);
      boolean firstUser = m instanceof Message.User && !firstUserSeen;
      firstUserSeen |= m instanceof Message.User;
      if (m instanceof Message.System || (strategy == TruncationStrategy.SMART && firstUser)) {
        pinned[i] = true;
        keep[i] = true;
        left -= cost[i];
      }
    }
    if (left < 0) {
      return new boolean[n];
    }
    // Units from the newest: [start, end) is one message, or an assistant tool-call turn with its results.
    int end = n;
    boolean newest = true;
    while (end > 0) {
      int start = unitStart(messages, end);
      boolean allPinned = true;
      long unitCost = 0;
      for (int i = start; i < end; i++) {
        if (!pinned[i]) {
          allPinned = false;
          unitCost += cost[i];
        }
      }
      if (!allPinned) {
        if (unitCost > left) {
          // The newest turn is what the model must answer: without it there is nothing worth sending.
          return newest ? new boolean[n] : keep;
        }
        left -= unitCost;
        for (int i = start; i < end; i++) {
          keep[i] = true;
        }
        newest = false;
      }
      end = start;
    }
    return keep;
  }

  /** Tokens of the messages truncation must keep: the pinned ones and the newest unit. */
  static long mustKeep(List<Message> messages, int[] cost, TruncationStrategy strategy) {
    long n = 0;
    int newestStart = messages.isEmpty() ? 0 : unitStart(messages, messages.size());
    boolean firstUserSeen = false;
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      boolean firstUser = m instanceof Message.User && !firstUserSeen;
      firstUserSeen |= m instanceof Message.User;
      boolean pinned = m instanceof Message.System || (strategy == TruncationStrategy.SMART && firstUser);
      if (pinned || i >= newestStart) {
        n += cost[i];
      }
    }
    return n;
  }

  /**
   * The first index of the unit ending at {@code end} (exclusive): tool results go back to the assistant
   * message whose calls they answer; any other message is a unit of its own.
   */
  private static int unitStart(List<Message> messages, int end) {
    int i = end - 1;
    if (!(messages.get(i) instanceof Message.Tool)) {
      return i;
    }
    int j = i;
    while (j >= 0 && messages.get(j) instanceof Message.Tool) {
      j--;
    }
    if (j >= 0 && messages.get(j) instanceof Message.Assistant a && !a.toolCalls().isEmpty()) {
      return j;
    }
    // Tool results without a preceding tool-call turn: keep them together, as they came.
    return j + 1;
  }

  private static LlmException exceeded(String model, int window, long input, long maxTokens, boolean exact,
      TruncationStrategy strategy) {
    return exceeded(model, window, input, maxTokens, exact, strategy, false);
  }

  /** {@code bound}: {@code input} is the lower bound from the request's length, not a count. */
  private static LlmException exceeded(String model, int window, long input, long maxTokens, boolean exact,
      TruncationStrategy strategy, boolean bound) {
    String counted = bound ? " (a lower bound from its length: it was not tokenized)" : exact ? "" : " (estimated)";
    String needs = (input + maxTokens) + " tokens" + counted + " (" + input + " input + " + maxTokens
        + " max_tokens)";
    String message = strategy == null
        ? "model '" + model + "' has a context window of " + window + " tokens, but the request needs "
            + (bound ? "at least " : "") + needs
            + ". Shorten the messages, lower max_tokens, or ask for truncation (\"sliding_window\" or \"smart\")."
        : "model '" + model + "' has a context window of " + window + " tokens, and even after " + strategy.wireName()
            + " truncation the request needs at least " + needs + ": the system messages"
            + (strategy == TruncationStrategy.SMART ? ", the first user message" : "")
            + " and the newest message must be kept. Shorten them or lower max_tokens.";
    return new LlmException(ErrorKind.CONTEXT_LENGTH_EXCEEDED, message, null, false, "messages");
  }

  // ------------------------------------------------------------------ the cheap bounds

  /** The longest token of {@code cl100k_base} and {@code o200k_base}, in UTF-8 bytes (a run of spaces). */
  static final int MAX_TOKEN_BYTES = 128;
  /**
   * The longest run of ASCII letters and digits inside any token of {@code cl100k_base} (41, in
   * ".translatesAutoresizingMaskIntoConstraints") and {@code o200k_base} (26). ContextGuardTest checks both
   * vocabularies.
   */
  static final int MAX_ALNUM_RUN = 41;

  /**
   * A lower bound of the tokens of one message in either encoding, without tokenizing: 3 of framing and 1 of
   * role, and per text {@link #lowerBound(String)}. Images and tool-call framing count 0.
   */
  static long lowerBound(Message m) {
    long n = 4;
    if (m instanceof Message.System s) {
      n += lowerBound(s.content());
    } else if (m instanceof Message.User u) {
      for (ContentPart p : u.content()) {
        if (p instanceof ContentPart.Text t) {
          n += lowerBound(t.text());
        }
      }
      n += lowerBound(u.name());
    } else if (m instanceof Message.Assistant a) {
      n += lowerBound(a.content());
      for (ToolCall c : a.toolCalls()) {
        n += lowerBound(c.name()) + lowerBound(c.arguments());
      }
    } else if (m instanceof Message.Tool t) {
      n += lowerBound(t.content());
    }
    return n;
  }

  /**
   * A lower bound of the tokens of {@code text} in either encoding: every token covers at most
   * {@value #MAX_TOKEN_BYTES} bytes (and a char is at least one byte); and a run of k ASCII letters and digits
   * is covered by at least {@code ceil(k / MAX_ALNUM_RUN)} tokens, all but the first and the last of which lie
   * inside the run (so are counted for no other run).
   */
  static long lowerBound(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    long runs = 0;
    int run = 0;
    for (int i = 0, n = text.length(); i <= n; i++) {
      char c = i < n ? text.charAt(i) : ' ';
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        run++;
      } else if (run > 0) {
        runs += Math.max(0, (run + MAX_ALNUM_RUN - 1) / MAX_ALNUM_RUN - 2);
        run = 0;
      }
    }
    return Math.max((text.length() + MAX_TOKEN_BYTES - 1) / MAX_TOKEN_BYTES, runs);
  }

  /**
   * An upper bound of the request's input tokens in any byte-level BPE, without tokenizing; -1 when the request
   * holds images (their bound depends on the model, so they are counted). Allocates only iterators.
   */
  static long upperBound(ChatRequest request) {
    // Per message: 3 tokens of framing, the role (one token in every encoding; 3 leaves room), 3 per char.
    long n = TokenCounter.REPLY_PRIMING;
    for (Message m : request.messages()) {
      n += 6;
      if (m instanceof Message.System s) {
        n += 3L * s.content().length();
      } else if (m instanceof Message.User u) {
        for (ContentPart p : u.content()) {
          if (p instanceof ContentPart.Text t) {
            n += 3L * t.text().length();
          } else {
            return -1;
          }
        }
        if (u.name() != null) {
          n += 1 + 3L * u.name().length();
        }
      } else if (m instanceof Message.Assistant a) {
        n += a.content() == null ? 0 : 3L * a.content().length();
        for (ToolCall c : a.toolCalls()) {
          n += 3 + 3L * (c.name() == null ? 0 : c.name().length()) + 3L * c.arguments().length();
        }
      } else if (m instanceof Message.Tool t) {
        n += 3L * t.content().length();
      }
    }
    if (!request.tools().isEmpty()) {
      n += 12;
      for (ToolDefinition t : request.tools()) {
        // The tool formula's fixed parts (10 per function, 3 per property or enum item) are each covered by a
        // JSON character of their own, so 6 × the JSON size bounds them with room to spare.
        n += 10 + 6L * (t.name().length() + 1 + (t.description() == null ? 0 : t.description().length()))
            + 6L * jsonChars(t.parameters());
      }
    }
    if (request.responseFormat() != null && request.responseFormat().schema() != null) {
      n += 3L * jsonChars(request.responseFormat().schema());
    }
    return n;
  }

  /** At least the length of the node's compact JSON, without writing it. */
  static long jsonChars(JsonNode node) {
    if (node == null) {
      return 0;
    }
    if (node.isObject()) {
      long n = 2;
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        n += e.getKey().length() + 4 + jsonChars(e.getValue());
      }
      return n;
    }
    if (node.isArray()) {
      long n = 2;
      for (JsonNode item : node) {
        n += 1 + jsonChars(item);
      }
      return n;
    }
    if (node.isTextual()) {
      // Escapes make JSON longer than the text; the tokens come from the text, so its length is enough.
      return node.textValue().length() + 2;
    }
    return Math.max(4, node.asText().length());
  }
}
