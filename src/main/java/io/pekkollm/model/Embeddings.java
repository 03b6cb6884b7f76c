package io.pekkollm.model;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/** Helpers for embedding vectors: cosine similarity and nearest-neighbour search. Stateless, thread-safe. */
public final class Embeddings {
  private Embeddings() {}

  /** One candidate's place in a search: its index in the candidate list and its cosine similarity to the query. */
  public record Match(int index, double score) {}

  /**
   * The cosine similarity of {@code a} and {@code b}, in [-1, 1]; 0 when either is all zeros. Fails with
   * IllegalArgumentException for vectors of different lengths.
   */
  public static double cosineSimilarity(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vectors of different lengths: " + a.length + " and " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / (Math.sqrt(na) * Math.sqrt(nb));
  }

  /**
   * The {@code k} candidates most similar to {@code query} by cosine similarity, best first (ties: lower index
   * first); fewer when there are fewer candidates.
   */
  public static List<Match> findSimilar(float[] query, List<float[]> candidates, int k) {
    if (k <= 0) {
      return List.of();
    }
    Comparator<Match> better = Comparator.comparingDouble(Match::score).reversed()
        .thenComparingInt(Match::index);
    // The worst kept match on top, so each candidate costs log k.
    PriorityQueue<Match> kept = new PriorityQueue<>(better.reversed());
    for (int i = 0; i < candidates.size(); i++) {
      kept.add(new Match(i, cosineSimilarity(query, candidates.get(i))));
      if (kept.size() > k) {
        kept.poll();
      }
    }
    List<Match> out = new ArrayList<>(kept);
    out.sort(better);
    return out;
  }
}
