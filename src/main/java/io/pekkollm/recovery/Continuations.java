package io.pekkollm.recovery;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import java.util.ArrayList;
import java.util.List;

/** Builds the request that continues an interrupted answer, and trims what the model repeats. */
public final class Continuations {
  /** The instruction that follows the kept text when the provider has no assistant prefill. */
  public static final String CONTINUE = io.pekkollm.model.Continuation.INSTRUCTION;

  private Continuations() {}

  /**
   * The continuation request. With assistant prefill the kept text is the trailing assistant turn and the
   * model simply goes on; otherwise the kept text is an assistant turn followed by an instruction. An empty
   * base (a paragraph resume of a one-paragraph answer) regenerates the answer from the original request.
   */
  static ChatRequest build(ChatRequest original, String model, String base, String summary, boolean prefill,
      int outputTokensSoFar, int floor) {
    List<Message> messages = new ArrayList<>(original.messages());
    if (summary != null) {
      messages.add(Message.user("Here is a summary of the answer you were writing before you were interrupted:\n\n"
          + summary + "\n\nIts last words were: \"" + tail(base, 200) + "\"\n\n" + CONTINUE));
    } else if (!base.isEmpty()) {
      if (prefill) {
        // Providers reject a prefill ending in whitespace (Anthropic does); the model re-sends it, and the
        // overlap trim removes the duplicate.
        messages.add(Message.assistant(base.stripTrailing()));
      } else {
        messages.add(Message.assistant(base));
        messages.add(Message.user(CONTINUE));
      }
    }
    ChatRequest.Builder b = original.toBuilder().model(model).messages(messages);
    if (original.maxTokens() != null) {
      int f = Math.min(original.maxTokens(), floor);
      b.maxTokens(Math.max(f, original.maxTokens() - outputTokensSoFar));
    }
    return b.build();
  }

  /** The request that condenses a partial answer for the summarize strategy. */
  static ChatRequest summaryRequest(String model, String partial) {
    return ChatRequest.builder(model)
        .system("Condense the partial answer the user sends into a short summary that keeps its facts, its "
            + "structure and where it stopped. Reply with the summary only.")
        .user(partial)
        .maxTokens(512)
        .build();
  }

  private static String tail(String s, int n) {
    int cps = Texts.codePoints(s);
    return cps <= n ? s : Texts.dropPrefix(s, cps - n);
  }

  /**
   * Trims the start of a continuation that repeats the end of {@code base}. Buffers text until
   * {@code window} characters (or the first non-text chunk, or the end) so a repeat split over chunks is
   * still found. After an assistant prefill ({@code prefill}) the model goes on from its own text and does
   * not restate it: only the trailing whitespace the prefill was sent without is trimmed when it comes back
   * ({@link Texts#reSentWhitespace}). Otherwise repeats of at least {@code minChars} are
   * ({@link Texts#overlap}). One per continuation stream; not thread-safe.
   */
  static final class OverlapTrimmer {
    private final String base;
    private final boolean prefill;
    private final int minChars;
    private final int window;
    private final StringBuilder buffer = new StringBuilder();
    private boolean decided;

    OverlapTrimmer(String base, boolean prefill, int minChars, int window) {
      this.base = base;
      this.prefill = prefill;
      this.minChars = minChars;
      this.window = window;
      this.decided = base.isEmpty();
    }

    List<ChatChunk> onChunk(ChatChunk c) {
      if (decided) {
        return List.of(c);
      }
      boolean textOnly = c.textDelta() != null && c.toolCalls().isEmpty() && c.finishReason() == null
          && c.usage() == null && c.reasoningDelta() == null;
      if (textOnly) {
        buffer.append(c.textDelta());
        return buffer.length() >= window ? flush(null) : List.of();
      }
      if (c.textDelta() != null) {
        buffer.append(c.textDelta());
        return flush(new ChatChunk(c.id(), c.model(), null, c.reasoningDelta(), c.toolCalls(), c.finishReason(),
            c.usage()));
      }
      return flush(c);
    }

    List<ChatChunk> onComplete() {
      return decided ? List.of() : flush(null);
    }

    private List<ChatChunk> flush(ChatChunk after) {
      decided = true;
      String text = buffer.toString();
      String kept = text.substring(prefill ? Texts.reSentWhitespace(base, text) : Texts.overlap(base, text, minChars));
      List<ChatChunk> out = new ArrayList<>(2);
      if (!kept.isEmpty()) {
        out.add(ChatChunk.text(kept));
      }
      if (after != null && !after.isEmpty()) {
        out.add(after);
      }
      return out;
    }
  }
}
