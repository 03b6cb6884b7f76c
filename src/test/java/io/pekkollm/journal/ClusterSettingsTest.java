package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

  private static ClusterSettings of(String hocon) {
    return ClusterSettings.create(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference())
        .resolve());
  }

  @Test
  void offByDefaultAndSetsNothingInPekko() {
    ClusterSettings s = of("");
    assertFalse(s.enabled());
    assertTrue(s.pekkoConfig().isEmpty());
    assertEquals("127.0.0.1", s.host());
    assertEquals(25520, s.port());
  }

  @Test
  void seedNodesAsHostPortOrFullAddresses() {
    ClusterSettings s = of("pekko-llm.cluster { seed-nodes = \" 127.0.0.1:2551, pekko://pekko-llm@10.0.0.2:2552 ,\"\n"
        + "port = 2553 }");
    assertEquals(List.of("pekko://pekko-llm@127.0.0.1:2551", "pekko://pekko-llm@10.0.0.2:2552"), s.seedNodes());
    var pekko = s.pekkoConfig();
    assertEquals("cluster", pekko.getString("pekko.actor.provider"));
    assertEquals(2553, pekko.getInt("pekko.remote.artery.canonical.port"));
    assertEquals(s.seedNodes(), pekko.getStringList("pekko.cluster.seed-nodes"));
    assertEquals("keep-majority", pekko.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    assertEquals(java.time.Duration.ofSeconds(10), pekko.getDuration("pekko.cluster.sharding.handoff-timeout"));
    assertEquals(java.time.Duration.ofMillis(500), pekko.getDuration("pekko.cluster.sharding.retry-interval"));
    assertEquals("org.apache.pekko.cluster.sbr.SplitBrainResolverProvider",
        pekko.getString("pekko.cluster.downing-provider-class"));
  }

  @Test
  void badSeedNodesAndPortsAreRefusedNamingTheEntry() {
    for (String bad : List.of("localhost", "127.0.0.1:abc", "127.0.0.1:0", "akka://pekko-llm@h:1",
        "pekko://other@127.0.0.1:2551", "127.0.0.1:99999")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> of("pekko-llm.cluster.seed-nodes = \"" + bad + "\""), bad);
      assertTrue(e.getMessage().contains("PEKKO_LLM_CLUSTER_SEED_NODES") && e.getMessage().contains(bad),
          e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> of("pekko-llm.cluster.port = \"x\""));
    assertThrows(IllegalArgumentException.class, () -> of("pekko-llm.cluster.port = 70000"));
  }
}
