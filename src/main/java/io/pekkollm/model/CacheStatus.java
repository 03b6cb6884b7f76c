package io.pekkollm.model;

/**
 * How the response cache served one call: {@code key} is the entry's key (the SHA-256 of the canonical request,
 * the id {@code DELETE /v1/cache/{key}} takes), {@code outcome} whether the answer came from a stored entry
 * ({@link Outcome#HIT}), from an identical call already in flight ({@link Outcome#COALESCED}) or from a new
 * upstream call ({@link Outcome#MISS}). Only HIT and COALESCED calls cost nothing upstream.
 */
public record CacheStatus(String key, Outcome outcome) {

  /** Where the answer came from. */
  public enum Outcome {
    HIT, MISS, COALESCED;

    /** The value of the gateway's {@code X-Cache} header. */
    public String headerValue() {
      return name();
    }
  }

  /** True when no upstream call was made for this caller. */
  public boolean servedWithoutUpstreamCall() {
    return outcome != Outcome.MISS;
  }
}
