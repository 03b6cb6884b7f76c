package io.pekkollm.session;

import io.pekkollm.util.JsonSerializable;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * The persisted events of one session (persistence id {@code session|<id>}). These records are the journal's
 * schema: add fields as nullable, evolve with Jackson migrations, never rename. {@code contextStrategy} is a
 * wire name ({@code sliding_window}, {@code smart}) or null for none.
 */
sealed interface SessionEvent extends JsonSerializable {

  /**
   * A session began; {@code messages} holds its system prompt when it has one; {@code owner} is the virtual key id
   * that created it (null: none, and in events written before owners existed).
   */
  record SessionCreated(String sessionId, String name, String model, String contextStrategy,
      Map<String, String> metadata, List<StoredMessage> messages, long atMillis, String owner)
      implements SessionEvent {}

  /** A session was imported whole from an export file (one event: an import is all or nothing). */
  record SessionImported(String sessionId, String name, String model, String contextStrategy,
      Map<String, String> metadata, List<StoredMessage> messages, StoredUsage usage, StoredCost cost,
      long createdAtMillis, long atMillis, String owner) implements SessionEvent {}

  /** A turn's input: a user message, or a tool result answering the previous reply's tool call. */
  record UserMessageAdded(StoredMessage message) implements SessionEvent {}

  /**
   * The model's reply ending a turn: its text, tool calls, reasoning, the model that answered, usage, cost, and
   * whether the response cache served it (then it adds nothing to the totals), all in the message. {@code turnId}
   * is the turn it ends (null on events journalled before turns had ids): a turn recorded again (its recording sent
   * twice) is recognised by it.
   */
  record AssistantReplyAdded(StoredMessage message, String turnId) implements SessionEvent {}

  record ModelChanged(String model, long atMillis) implements SessionEvent {}

  /** The name, metadata and context strategy as they are from now on. */
  record MetadataChanged(String name, Map<String, String> metadata, String contextStrategy, long atMillis)
      implements SessionEvent {}

  record SessionDeleted(long atMillis) implements SessionEvent {}

  /**
   * One message as stored. {@code parts} is null for text-only content and holds every part otherwise;
   * {@code model}, {@code usage}, {@code cost} and {@code fromCache} (null: false) belong to assistant replies.
   */
  record StoredMessage(String role, String content, List<StoredPart> parts, String name,
      List<StoredToolCall> toolCalls, String toolCallId, String reasoning, String model, StoredUsage usage,
      StoredCost cost, Boolean fromCache, long atMillis) {}

  /** A content part: {@code type} text (with {@code text}) or image (with {@code url} or base64 data). */
  record StoredPart(String type, String text, String url, String base64Data, String mediaType, String detail) {}

  record StoredToolCall(String id, String name, String arguments) {}

  record StoredUsage(int input, int output, int cachedInput, int cacheWrite, int reasoning) {}

  record StoredCost(BigDecimal input, BigDecimal cachedInput, BigDecimal cacheWrite, BigDecimal output,
      BigDecimal reasoning) {}
}
