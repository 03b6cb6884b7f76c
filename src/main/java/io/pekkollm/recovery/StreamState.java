package io.pekkollm.recovery;

import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of one stream, rebuilt from its events. Mutable, but owned by its entity alone: event handlers
 * change it, and nothing else sees it (replies are copies). A long stream appends thousands of chunks, and
 * copying an immutable list per batch would be quadratic.
 */
final class StreamState {
  enum Status { NEW, STREAMING, COMPLETED, INTERRUPTED }

  Status status = Status.NEW;
  String recoveryId;
  String provider;
  String model;
  String request;
  String incarnation;
  /** What the caller asked to keep with the stream (null: none). */
  String origin;
  /** The virtual key id that started the stream, or null. */
  String owner;
  /** The answer as it stands: chunks in order (a paragraph resume trims this view). */
  final List<StoredChunk> view = new ArrayList<>();
  final StringBuilder text = new StringBuilder();
  long nextSeq = 1;
  int attempt = 1;
  String strategy;
  String finishReason;
  StoredUsage usage;
  String cause;
  String errorKind;
  boolean recoverable;
  boolean cancelled;
  long startedAt;
  long updatedAt;
  /** The run writing the stream now (its Started or latest Resumed event's), null for streams from before runs had ids. */
  String writer;
  /** The number of that run's last persisted write (0: none yet), and the sequence numbers that write gave its chunks. */
  long lastWrite;
  List<Long> lastSeqs = List.of();
  /** The latest resume (null: none since the stream began). */
  StreamEvent.Resumed lastResume;

  StreamState apply(StreamEvent event) {
    applyEvent(event);
    return this;
  }

  private void applyEvent(StreamEvent event) {
    if (event instanceof StreamEvent.Started s) {
      writer = s.writer();
      lastWrite = 0;
      lastSeqs = List.of();
      lastResume = null;
      wrote(s.write());
      status = Status.STREAMING;
      recoveryId = s.recoveryId();
      provider = s.provider();
      model = s.model();
      request = s.request();
      incarnation = s.incarnation();
      origin = s.origin();
      owner = s.owner();
      startedAt = s.atMillis();
      updatedAt = s.atMillis();
    } else if (event instanceof StreamEvent.ChunksAppended a) {
      if (wrote(a.write())) {
        List<Long> seqs = new ArrayList<>(a.chunks().size());
        a.chunks().forEach(c -> seqs.add(c.seq()));
        lastSeqs = List.copyOf(seqs);
      }
      for (StoredChunk c : a.chunks()) {
        if (c.seq() > 0) {
          view.add(c);
          nextSeq = Math.max(nextSeq, c.seq() + 1);
          if (c.text() != null) {
            text.append(c.text());
          }
        }
        if (c.usage() != null) {
          usage = c.usage();
        }
        if (c.finishReason() != null) {
          finishReason = c.finishReason();
        }
      }
      updatedAt = a.atMillis();
    } else if (event instanceof StreamEvent.Interrupted i) {
      wrote(i.write());
      status = Status.INTERRUPTED;
      cause = i.cause();
      errorKind = i.errorKind();
      recoverable = i.recoverable();
      cancelled = i.cancelled();
      updatedAt = i.atMillis();
    } else if (event instanceof StreamEvent.Completed c) {
      wrote(c.write());
      status = Status.COMPLETED;
      if (c.finishReason() != null) {
        finishReason = c.finishReason();
      }
      if (c.usage() != null) {
        usage = c.usage();
      }
      updatedAt = c.atMillis();
    } else if (event instanceof StreamEvent.Resumed r) {
      status = Status.STREAMING;
      attempt = r.attempt();
      strategy = r.strategy();
      model = r.model();
      incarnation = r.incarnation();
      writer = r.writer();
      lastWrite = 0;
      lastSeqs = List.of();
      lastResume = r;
      trimTo(r.keepCodePoints());
      finishReason = null;
      cause = null;
      errorKind = null;
      cancelled = false;
      updatedAt = r.atMillis();
    }
  }

  /**
   * Notes that an event of write {@code write} is applied (a new write number starts with no sequence numbers);
   * false for an event without one (journalled before writes were numbered, or not written by a run).
   */
  private boolean wrote(Long write) {
    if (write == null) {
      return false;
    }
    if (write != lastWrite) {
      lastWrite = write;
      lastSeqs = List.of();
    }
    return true;
  }

  /** Keeps the first {@code keep} code points of the answer: later chunks leave the view, one is cut. */
  private void trimTo(int keep) {
    List<StoredChunk> kept = new ArrayList<>();
    int remaining = keep;
    for (StoredChunk c : view) {
      String t = c.text() == null ? "" : c.text();
      int cps = Texts.codePoints(t);
      if (remaining <= 0 && cps > 0) {
        break;
      }
      if (cps <= remaining) {
        kept.add(c);
        remaining -= cps;
      } else {
        kept.add(Chunks.withText(c, Texts.prefix(t, remaining)));
        remaining = 0;
      }
    }
    view.clear();
    view.addAll(kept);
    text.setLength(0);
    for (StoredChunk c : view) {
      if (c.text() != null) {
        text.append(c.text());
      }
    }
  }

  /** The answer text the client built from the chunks with seq up to {@code lastSeq} (all when null). */
  String textUpTo(Long lastSeq) {
    if (lastSeq == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (StoredChunk c : view) {
      if (c.seq() <= lastSeq && c.text() != null) {
        sb.append(c.text());
      }
    }
    return sb.toString();
  }

  long lastSeq() {
    return view.isEmpty() ? 0 : view.get(view.size() - 1).seq();
  }

  int outputTokens() {
    if (usage != null && usage.output() > 0) {
      return usage.output();
    }
    // No usage yet (the stream broke first): a documented estimate of about four characters per token.
    return (text.length() + 3) / 4;
  }
}
