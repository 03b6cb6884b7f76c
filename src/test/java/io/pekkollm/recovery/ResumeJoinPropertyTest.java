package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pekkollm.stream.ChatStream;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The join of a resumed stream is exact whatever the cut, the strategy and the provider: a multi-paragraph
 * answer is cut at every chunk boundary, resumed with {@code exact} and with {@code paragraph}, against a
 * provider with assistant prefill (Anthropic: the kept text is sent with its trailing whitespace stripped, and
 * the model goes on from the stripped prefill, re-sending that whitespace) and one without (OpenAI-compatible:
 * the kept text is sent as it is with an instruction, and the model goes on right after it). The client keeps
 * the first {@code kept_chars} code points of what it had and appends the continuation; that must be the answer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumeJoinPropertyTest {
  /** Three paragraphs; breaks arrive inside chunks, as chunks of their own and split over two chunks. */
  private static final List<String> CHUNKS = List.of("The tides ", "follow the Moon 🌕.", "\n\n", "Twice a day ",
      "the sea rises", ".\n", "\nSpring tides come ", "with the full Moon.\n\n", "Neap tides ", "with the half.");
  private static final String ANSWER = String.join("", CHUNKS);

  private Upstream anthropic;
  private Upstream openAi;
  private LlmClient client;

  @BeforeAll
  void start() {
    anthropic = new Upstream();
    openAi = new Upstream();
    client = LlmClient.create(TestConfig.openAiCompatible("openai", openAi,
        "pekko-llm.providers.anthropic { base-url = \"" + anthropic.url("") + "\", api-key = \"sk-ant-test\" }"));
  }

  @AfterAll
  void stop() {
    client.close();
    anthropic.close();
    openAi.close();
  }

  @Test
  void theJoinIsExactAtEveryCutForEveryStrategyAndProvider() throws Exception {
    List<String> failures = new ArrayList<>();
    for (boolean prefill : new boolean[] {true, false}) {
      for (ResumeStrategy strategy : new ResumeStrategy[] {ResumeStrategy.EXACT, ResumeStrategy.PARAGRAPH}) {
        for (int cut = 1; cut < CHUNKS.size(); cut++) {
          String joined = interruptAndResume(prefill, strategy, cut);
          if (!ANSWER.equals(joined)) {
            failures.add((prefill ? "anthropic" : "openai") + " " + strategy.wireName() + " cut after chunk " + cut
                + ": " + escape(joined));
          }
        }
      }
    }
    assertEquals(List.of(), failures, "expected " + escape(ANSWER));
  }

  private String interruptAndResume(boolean prefill, ResumeStrategy strategy, int cut) throws Exception {
    Upstream upstream = prefill ? anthropic : openAi;
    upstream.reset();
    String full = sse(prefill, CHUNKS, true);
    int bytes = sse(prefill, CHUNKS.subList(0, cut), false).getBytes(StandardCharsets.UTF_8).length;
    upstream.enqueue(Reply.sse(full.getBytes(StandardCharsets.UTF_8)).truncatedAfter(bytes + 1));

    StringBuilder had = new StringBuilder();
    var pair = client.stream(ChatRequest.builder(prefill ? "anthropic/claude-test" : "openai/gpt-test")
            .user("Why are there tides?").maxTokens(500).build())
        .toMat(Sink.foreach(c -> had.append(c.textDelta() == null ? "" : c.textDelta())), Keep.both())
        .run(client.system());
    ChatStream handle = pair.first();
    assertThrows(ExecutionException.class, () -> pair.second().toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals(String.join("", CHUNKS.subList(0, cut)), had.toString());

    // What the model is sent to go on from, and how it goes on: from the (stripped) prefill, or right after the
    // kept text it was shown.
    String base = strategy == ResumeStrategy.PARAGRAPH ? Texts.completeParagraphs(had.toString()) : had.toString();
    String from = prefill ? base.stripTrailing() : base;
    String rest = ANSWER.substring(from.length());
    int half = rest.offsetByCodePoints(0, rest.codePointCount(0, rest.length()) / 2);
    upstream.reset();
    upstream.enqueue(Reply.sse(sse(prefill, List.of(rest.substring(0, half), rest.substring(half)), true)
        .getBytes(StandardCharsets.UTF_8)));

    ResumedStream r = client.resume(handle, strategy).toCompletableFuture().get(10, TimeUnit.SECONDS);
    StringBuilder joined = new StringBuilder(had.substring(0, had.offsetByCodePoints(0, r.keptChars())));
    r.chunks().runForeach(j -> joined.append(j.chunk().textDelta() == null ? "" : j.chunk().textDelta()),
        client.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    return joined.toString();
  }

  private static String sse(boolean anthropic, List<String> deltas, boolean finish) {
    return anthropic ? Sse.anthropic(deltas, finish) : Sse.openAi(deltas, finish);
  }

  private static String escape(String s) {
    return s.replace("\n", "\\n");
  }
}
