package io.pekkollm.tools;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Futures;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tools for the model until it answers: sends the request with the tools' definitions, runs every tool call
 * of the answer (concurrently, at most {@link ToolLoopOptions#maxParallelTools()} at a time, each within
 * {@link ToolLoopOptions#toolTimeout()}), appends the assistant turn and the results in the order the model asked
 * for them as the core model's tool messages (each provider's translation turns them into its own format), and
 * sends again, until an answer without tool calls or {@link ToolLoopOptions#maxSteps()} model calls.
 *
 * <p>A model's mistake never fails the loop: an unknown tool, arguments that are not JSON or do not match the
 * schema, a tool that throws or times out each become an error result the model sees (and may correct), are
 * logged, and counted in {@link ToolLoopResult#toolErrors()}. A failed model call (an {@link
 * io.pekkollm.model.LlmException}) fails the loop.
 *
 * <p>Use it through {@code LlmClient.runTools} / {@code LlmClient.streamTools}. Thread-safe: every run has its
 * own state.
 */
public final class ToolLoop {
  private static final Logger log = LoggerFactory.getLogger(ToolLoop.class);

  /** What the loop needs of the client: one model call, streamed, with its folded answer. */
  public interface Runtime {
    /**
     * The chunks of one model call; the materialized stage completes with the whole answer (with cost) once
     * the chunks have ended.
     */
    Source<ChatChunk, CompletionStage<ChatResponse>> answer(ChatRequest request);

    ActorSystem<?> system();
  }

  private ToolLoop() {}

  /**
   * The loop as a stream of events; the materialized stage completes with the result when the stream ends
   * (failed with the model call's error, or with {@link CancellationException} when cancelled first). Nothing
   * runs until it is materialized; each materialization is a run of its own.
   *
   * @throws IllegalArgumentException when two tools share a name
   */
  public static Source<ToolLoopEvent, CompletionStage<ToolLoopResult>> stream(Runtime runtime, ChatRequest request,
      List<ToolFunction> tools, ToolLoopOptions options) {
    Map<String, ToolFunction> byName = ToolFunction.byName(tools);
    List<io.pekkollm.model.ToolDefinition> definitions = tools.stream().map(ToolFunction::definition).toList();
    ChatRequest base = request.toBuilder().tools(definitions).build();
    return Source.<ToolLoopEvent, CompletableFuture<ToolLoopResult>>fromMaterializer((mat, attrs) -> {
      Run run = new Run(runtime, base, byName, options);
      return run.step(1).watchTermination((nu, done) -> {
        done.whenComplete((d, err) -> {
          if (err != null) {
            run.result.completeExceptionally(err);
          } else {
            run.result.completeExceptionally(new CancellationException("the tool loop was cancelled"));
          }
        });
        return run.result;
      });
    }).mapMaterializedValue(f -> f.thenCompose(r -> r));
  }

  /** Runs the loop to its end, ignoring the events. */
  public static CompletionStage<ToolLoopResult> run(Runtime runtime, ChatRequest request, List<ToolFunction> tools,
      ToolLoopOptions options) {
    return stream(runtime, request, tools, options)
        .toMat(org.apache.pekko.stream.javadsl.Sink.ignore(), org.apache.pekko.stream.javadsl.Keep.left())
        .run(runtime.system());
  }

  /** One run's state; steps run one after another, so it is touched by one stage at a time. */
  private static final class Run {
    final Runtime runtime;
    final ChatRequest base;
    final Map<String, ToolFunction> tools;
    final ToolLoopOptions options;
    final Executor executor;
    final List<Message> transcript;
    final List<ChatResponse> steps = new ArrayList<>();
    final CompletableFuture<ToolLoopResult> result = new CompletableFuture<>();
    int toolCalls;
    int toolErrors;

    Run(Runtime runtime, ChatRequest base, Map<String, ToolFunction> tools, ToolLoopOptions options) {
      this.runtime = runtime;
      this.base = base;
      this.tools = tools;
      this.options = options;
      this.executor = options.executor() != null ? options.executor()
          : runtime.system().dispatchers().lookup(DispatcherSelector.blocking());
      this.transcript = new ArrayList<>(base.messages());
    }

    Source<ToolLoopEvent, NotUsed> step(int step) {
      ChatRequest request = base.withMessages(List.copyOf(transcript));
      CompletableFuture<ChatResponse> answer = new CompletableFuture<>();
      Source<ToolLoopEvent, NotUsed> deltas = runtime.answer(request)
          .mapMaterializedValue(f -> {
            Futures.completeWith(answer, f);
            return NotUsed.getInstance();
          })
          .filter(c -> c.textDelta() != null && !c.textDelta().isEmpty())
          .map(c -> (ToolLoopEvent) new ToolLoopEvent.TextDelta(step, c.textDelta()));
      return deltas.concatLazy(Source.lazySource(() -> Source.completionStageSource(
          answer.thenApply(r -> afterAnswer(step, r)))).mapMaterializedValue(m -> NotUsed.getInstance()));
    }

    Source<ToolLoopEvent, NotUsed> afterAnswer(int step, ChatResponse response) {
      steps.add(response);
      List<ToolCall> calls = response.toolCalls();
      transcript.add(new Message.Assistant(response.text().isEmpty() && !calls.isEmpty() ? null : response.text(),
          calls, null));
      Source<ToolLoopEvent, NotUsed> finished = Source.single(new ToolLoopEvent.StepFinished(step, response));
      if (calls.isEmpty() || step >= options.maxSteps()) {
        return finished.concatLazy(Source.lazySource(() -> {
          result.complete(finish(calls.isEmpty() ? ToolLoopResult.Outcome.ANSWERED
              : ToolLoopResult.Outcome.MAX_STEPS, response));
          return Source.<ToolLoopEvent>empty();
        }).mapMaterializedValue(m -> NotUsed.getInstance()));
      }
      toolCalls += calls.size();
      Source<ToolLoopEvent, NotUsed> started = Source.from(calls)
          .map(c -> (ToolLoopEvent) new ToolLoopEvent.ToolCallStarted(step, c));
      // mapAsync keeps the order of its input: results go back in the order the model asked for the calls.
      Source<ToolLoopEvent, NotUsed> results = Source.from(calls)
          .mapAsync(options.maxParallelTools(), c -> execute(step, c))
          .map(r -> {
            transcript.add(Message.tool(r.call().id(), r.result()));
            if (r.failed()) {
              toolErrors++;
            }
            return (ToolLoopEvent) r;
          });
      return finished.concat(started).concat(results)
          .concatLazy(Source.lazySource(() -> step(step + 1)).mapMaterializedValue(m -> NotUsed.getInstance()));
    }

    private ToolLoopResult finish(ToolLoopResult.Outcome outcome, ChatResponse last) {
      Usage usage = Usage.ZERO;
      Cost cost = Cost.ZERO;
      boolean priced = true;
      for (ChatResponse r : steps) {
        Usage u = r.usage();
        if (u != null) {
          usage = new Usage(usage.inputTokens() + u.inputTokens(), usage.outputTokens() + u.outputTokens(),
              usage.cachedInputTokens() + u.cachedInputTokens(), usage.cacheWriteTokens() + u.cacheWriteTokens(),
              usage.reasoningTokens() + u.reasoningTokens());
        }
        if (r.cost().isPresent()) {
          cost = cost.plus(r.cost().get());
        } else {
          priced = false;
        }
      }
      return new ToolLoopResult(outcome, last, transcript, steps, usage, priced ? Optional.of(cost)
          : Optional.empty(), toolCalls, toolErrors);
    }

    private CompletionStage<ToolLoopEvent.ToolResult> execute(int step, ToolCall call) {
      ToolFunction tool = tools.get(call.name());
      if (tool == null) {
        return error(step, call, ToolError.UNKNOWN_TOOL, "there is no tool named '" + call.name()
            + "'; the tools are: " + String.join(", ", tools.keySet()));
      }
      JsonNode args;
      try {
        args = call.arguments().isBlank() ? Json.object() : Json.parse(call.arguments());
      } catch (JsonProcessingException e) {
        return error(step, call, ToolError.INVALID_ARGUMENTS, "the arguments are not valid JSON: "
            + e.getOriginalMessage());
      } catch (java.io.IOException e) {
        return error(step, call, ToolError.INVALID_ARGUMENTS, "the arguments are not valid JSON");
      }
      List<String> problems = tool.validate(args);
      if (!problems.isEmpty()) {
        return error(step, call, ToolError.INVALID_ARGUMENTS, "the arguments do not match the tool's schema: "
            + String.join("; ", problems));
      }
      CompletableFuture<ToolLoopEvent.ToolResult> out = new CompletableFuture<>();
      FutureTask<Object> task = new FutureTask<>(() -> tool.invoke(args)) {
        @Override
        protected void done() {
          if (isCancelled()) {
            return;
          }
          try {
            out.complete(new ToolLoopEvent.ToolResult(step, call, resultText(get()), null));
          } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            out.complete(logged(step, call, ToolError.FAILED, "the tool failed: " + cause.getClass().getSimpleName()
                + (cause.getMessage() == null ? "" : ": " + cause.getMessage())));
          } catch (InterruptedException | RuntimeException e) {
            out.complete(logged(step, call, ToolError.FAILED, "the tool failed: " + e));
          }
        }
      };
      try {
        executor.execute(task);
      } catch (RejectedExecutionException e) {
        return error(step, call, ToolError.FAILED, "the tool could not be started: its executor is full");
      }
      ActorSystem<?> system = runtime.system();
      org.apache.pekko.actor.Cancellable timer = system.scheduler().scheduleOnce(options.toolTimeout(), () -> {
        if (out.complete(logged(step, call, ToolError.TIMED_OUT, "the tool did not finish within "
            + options.toolTimeout().toMillis() + " ms"))) {
          // Interrupts the tool's thread only while it still runs this task.
          task.cancel(true);
        }
      }, system.executionContext());
      out.whenComplete((r, e) -> timer.cancel());
      return out;
    }

    private CompletionStage<ToolLoopEvent.ToolResult> error(int step, ToolCall call, ToolError kind, String message) {
      return CompletableFuture.completedFuture(logged(step, call, kind, message));
    }

    private ToolLoopEvent.ToolResult logged(int step, ToolCall call, ToolError kind, String message) {
      // The tool's name and the kind only: arguments and exception messages may hold the user's data.
      log.warn("tool call {} of '{}' in step {} answered with an error: {}", call.id(), call.name(), step, kind);
      return new ToolLoopEvent.ToolResult(step, call, Json.write(Json.object().put("error", message)), kind);
    }
  }

  /** A tool's return value as the model gets it: a String as it is, anything else as JSON. */
  static String resultText(Object value) {
    if (value instanceof String s) {
      return s;
    }
    try {
      return io.pekkollm.schema.JsonSchemas.MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the tool's result cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }
}
