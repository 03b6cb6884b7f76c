package io.pekkollm.session;

import java.util.List;

/** One page of {@link SessionClient#list}: sessions newest first, and whether more follow. */
public record SessionPage(List<SessionSummary> sessions, boolean hasMore) {

  public SessionPage {
    sessions = List.copyOf(sessions);
  }
}
