package io.pekkollm.journal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;

/**
 * Cluster mode, from {@code pekko-llm.cluster} (reference.conf documents each key): on when seed nodes are set.
 * {@link #pekkoConfig()} is what it sets in Pekko's own configuration (remoting address, seed nodes, the Split
 * Brain Resolver, failure detection); with no seed nodes nothing is set and no port is opened.
 *
 * @param seedNodes full addresses, {@code pekko://pekko-llm@host:port}
 */
public record ClusterSettings(List<String> seedNodes, String host, int port, String sbrStrategy,
    Duration stableAfter, Duration heartbeatPause, Duration downRemovalMargin, String maxFrameSize,
    Duration handoffTimeout, Duration shardingRetryInterval) {

  /** The actor system's name: every node of one cluster has the same. */
  public static final String SYSTEM_NAME = "pekko-llm";

  public ClusterSettings {
    seedNodes = List.copyOf(seedNodes);
  }

  /** Reads and checks the settings; throws IllegalArgumentException naming the bad value. */
  public static ClusterSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.cluster");
    String host = c.getString("host").trim();
    if (host.isEmpty()) {
      throw new IllegalArgumentException("pekko-llm.cluster.host (PEKKO_LLM_CLUSTER_HOST) must not be empty");
    }
    int port;
    try {
      port = Integer.parseInt(c.getString("port").trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("PEKKO_LLM_CLUSTER_PORT must be a port number, not '" + c.getString("port")
          + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("PEKKO_LLM_CLUSTER_PORT must be 0 to 65535, not " + port);
    }
    return new ClusterSettings(seedNodes(c.getString("seed-nodes")), host, port, c.getString("sbr.active-strategy"),
        c.getDuration("sbr.stable-after"), c.getDuration("failure-detector.acceptable-heartbeat-pause"),
        c.getDuration("down-removal-margin"), c.getString("maximum-frame-size"), c.getDuration("handoff-timeout"),
        c.getDuration("sharding-retry-interval"));
  }

  /**
   * {@code host:port} or {@code pekko://pekko-llm@host:port} entries, comma-separated; blank: none. Throws
   * IllegalArgumentException for an entry that is neither.
   */
  static List<String> seedNodes(String spec) {
    List<String> out = new ArrayList<>();
    for (String raw : spec.split(",")) {
      String s = raw.trim();
      if (s.isEmpty()) {
        continue;
      }
      String uri = s.contains("://") ? s : "pekko://" + SYSTEM_NAME + "@" + s;
      Address a;
      try {
        a = AddressFromURIString.parse(uri);
      } catch (Exception e) { // MalformedURLException, thrown by Scala without declaring it
        throw bad(s, "not host:port or pekko://" + SYSTEM_NAME + "@host:port");
      }
      if (!a.protocol().equals("pekko") || a.host().isEmpty() || a.port().isEmpty()) {
        throw bad(s, "not host:port or pekko://" + SYSTEM_NAME + "@host:port");
      }
      if (!a.system().equals(SYSTEM_NAME)) {
        throw bad(s, "the actor system must be '" + SYSTEM_NAME + "', not '" + a.system() + "'");
      }
      int p = (Integer) a.port().get();
      if (p <= 0 || p > 65535) {
        throw bad(s, "the port must be 1 to 65535");
      }
      out.add(a.toString());
    }
    return out;
  }

  private static IllegalArgumentException bad(String entry, String why) {
    return new IllegalArgumentException("PEKKO_LLM_CLUSTER_SEED_NODES: '" + entry + "' is " + why);
  }

  /** Cluster mode: seed nodes are set. */
  public boolean enabled() {
    return !seedNodes.isEmpty();
  }

  /** What cluster mode sets in Pekko's configuration, to lay over the rest; empty when cluster mode is off. */
  public Config pekkoConfig() {
    if (!enabled()) {
      return ConfigFactory.empty();
    }
    Map<String, Object> m = new HashMap<>();
    m.put("pekko.actor.provider", "cluster");
    m.put("pekko.remote.artery.canonical.hostname", host);
    m.put("pekko.remote.artery.canonical.port", port);
    m.put("pekko.cluster.seed-nodes", seedNodes);
    m.put("pekko.cluster.downing-provider-class", "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider");
    m.put("pekko.cluster.split-brain-resolver.active-strategy", sbrStrategy);
    m.put("pekko.cluster.split-brain-resolver.stable-after", stableAfter.toMillis() + "ms");
    m.put("pekko.cluster.failure-detector.acceptable-heartbeat-pause", heartbeatPause.toMillis() + "ms");
    m.put("pekko.cluster.down-removal-margin", downRemovalMargin.isZero() ? "off" : downRemovalMargin.toMillis() + "ms");
    // Replies carry a stream's text or a session's history: larger than Artery's default 256 KiB frame.
    m.put("pekko.remote.artery.advanced.maximum-frame-size", maxFrameSize);
    // Lets the sharded entities and the singleton run on every node (no roles), and hands a leaving node's
    // shards over before it exits (coordinated shutdown on SIGTERM, Pekko's default).
    m.put("pekko.cluster.sharding.passivation.strategy", "none");
    // A shard moving (a node leaving, or a rebalance to a node that joined) stops its entities before they start on
    // the new node; Pekko's 60 s lets one entity stuck in a journal write hold the whole shard's messages that long.
    m.put("pekko.cluster.sharding.handoff-timeout", handoffTimeout.toMillis() + "ms");
    // How soon a region asks again for a shard's home (messages for it wait meanwhile), e.g. once the coordinator
    // has moved off a leaving node: Pekko's 2 s adds up to 2 s to every such wait.
    m.put("pekko.cluster.sharding.retry-interval", shardingRetryInterval.toMillis() + "ms");
    return ConfigFactory.parseMap(m);
  }

  /** The address of this node as other nodes see it. */
  public String selfAddress() {
    return "pekko://" + SYSTEM_NAME + "@" + host + ":" + port;
  }
}
