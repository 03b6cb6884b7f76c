package io.pekkollm.testkit;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Round trips of messages through the serializers a cluster node uses for them (as between two nodes), in an
 * actor system with the cluster provider on a free loopback port that joins nothing.
 */
public final class WireCheck {
  private WireCheck() {}

  /** The configuration of such a system. */
  public static Config clusterConfig() {
    return ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.loglevel = WARNING
        """).withFallback(io.pekkollm.api.LlmConfig.load());
  }

  public static ActorTestKit kit() {
    return ActorTestKit.create("wire-check", clusterConfig());
  }

  /**
   * A one-node cluster (joined to itself, Up on return) with {@code serialize-messages = on}: every message
   * delivered to an actor there, commands through Cluster Sharding and replies to probes alike, is serialized and
   * read back first, as between two nodes, and a send that would not survive fails. Journal settings from
   * {@code extra} (e.g. an H2 data dir).
   */
  public static ActorTestKit serializingClusterKit(String extra) {
    ActorTestKit kit = ActorTestKit.create("serializing-cluster", ConfigFactory.parseString(extra + """

        pekko.actor.serialize-messages = on
        # Pekko's own messages too: StatusReply carries our replies and errors.
        pekko.actor.no-serialization-verification-needed-class-prefix = []
        """).withFallback(clusterConfig()));
    var cluster = org.apache.pekko.cluster.typed.Cluster.get(kit.system());
    cluster.manager().tell(org.apache.pekko.cluster.typed.Join.create(cluster.selfMember().address()));
    kit.createTestProbe().awaitAssert(java.time.Duration.ofSeconds(20), () -> {
      org.junit.jupiter.api.Assertions.assertEquals(org.apache.pekko.cluster.MemberStatus.up(),
          cluster.selfMember().status());
      return null;
    });
    return kit;
  }

  /** {@link #serializingClusterKit} on a fresh H2 journal: its plugin config and the cluster's entity host. */
  public record ClusterJournal(ActorTestKit kit, com.typesafe.config.Config plugin,
      io.pekkollm.journal.EntityHost host) {}

  public static ClusterJournal serializingClusterJournal() throws java.io.IOException {
    String dir = java.nio.file.Files.createTempDirectory("cluster-journal").toString().replace("\\", "/");
    ActorTestKit kit = serializingClusterKit("pekko-llm.recovery.data-dir = \"" + dir + "\"");
    var journal = io.pekkollm.journal.JournalSettings.create(kit.system().settings().config());
    io.pekkollm.journal.JournalSchema.ensure(journal);
    return new ClusterJournal(kit, journal.pluginConfig(kit.system().settings().config()),
        io.pekkollm.journal.EntityHost.cluster(kit.system()));
  }

  /** Asserts that {@code message} comes back equal from {@link #roundTrip}. */
  public static void assertSurvives(ActorTestKit kit, Object message) {
    org.junit.jupiter.api.Assertions.assertEquals(message, roundTrip(kit, message));
  }

  /** {@code message} serialized and read back as another node would; fails on Java serialization. */
  @SuppressWarnings("unchecked")
  public static <T> T roundTrip(ActorTestKit kit, T message) {
    Serialization s = SerializationExtension.get(kit.system());
    Serializer serializer = s.findSerializerFor(message);
    if (serializer.getClass().getName().contains("JavaSerializer")) {
      throw new AssertionError(message.getClass() + " would need Java serialization");
    }
    String manifest = Serializers.manifestFor(serializer, message);
    byte[] bytes = s.serialize(message).get();
    return (T) s.deserialize(bytes, serializer.identifier(), manifest).get();
  }
}
