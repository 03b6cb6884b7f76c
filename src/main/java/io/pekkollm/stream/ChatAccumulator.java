package io.pekkollm.stream;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Folds a chunk stream into one {@link ChatResponse}: text and reasoning concatenated, tool-call fragments
 * joined by index, the last finish reason, usage merged (providers that report usage more than once send
 * running totals). Not thread-safe: one per stream.
 */
public final class ChatAccumulator {
  private final StringBuilder text = new StringBuilder();
  private StringBuilder reasoning;
  private final TreeMap<Integer, ToolCallBuilder> toolCalls = new TreeMap<>();
  private String id;
  private String providerModel;
  private FinishReason finishReason;
  private Usage usage;
  private int chunks;

  public ChatAccumulator add(ChatChunk chunk) {
    chunks++;
    if (id == null && chunk.id() != null) {
      id = chunk.id();
    }
    if (providerModel == null && chunk.model() != null) {
      providerModel = chunk.model();
    }
    if (chunk.textDelta() != null) {
      text.append(chunk.textDelta());
    }
    if (chunk.reasoningDelta() != null) {
      if (reasoning == null) {
        reasoning = new StringBuilder();
      }
      reasoning.append(chunk.reasoningDelta());
    }
    for (ToolCallDelta d : chunk.toolCalls()) {
      ToolCallBuilder b = toolCalls.computeIfAbsent(d.index(), i -> new ToolCallBuilder());
      if (b.id == null && d.id() != null) {
        b.id = d.id();
      }
      if (b.name == null && d.name() != null) {
        b.name = d.name();
      }
      b.arguments.append(d.argumentsDelta());
    }
    if (chunk.finishReason() != null) {
      finishReason = chunk.finishReason();
    }
    if (chunk.usage() != null) {
      usage = usage == null ? chunk.usage() : usage.merge(chunk.usage());
    }
    return this;
  }

  public String text() {
    return text.toString();
  }

  public int chunkCount() {
    return chunks;
  }

  public ChatResponse toResponse(String model) {
    List<ToolCall> calls = new ArrayList<>(toolCalls.size());
    toolCalls.values().forEach(b -> calls.add(new ToolCall(b.id, b.name, b.arguments.toString())));
    return new ChatResponse(id, model, providerModel, text.toString(), reasoning == null ? null : reasoning.toString(),
        calls, finishReason, usage);
  }

  private static final class ToolCallBuilder {
    String id;
    String name;
    final StringBuilder arguments = new StringBuilder();
  }
}
