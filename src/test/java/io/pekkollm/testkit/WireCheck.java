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
