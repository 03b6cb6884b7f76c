package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.testkit.WireCheck;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.Leave;
import org.junit.jupiter.api.Test;

/** Which node of a cluster runs the journal-wide jobs (the retention sweep): one, the oldest, and another after it. */
class ClusterEntityHostTest {

  @Test
  void onlyTheOldestMemberRunsTheJournalJobsAndTheNextOldestTakesOver() {
    ActorTestKit first = ActorTestKit.create("jobs", WireCheck.clusterConfig());
    ActorTestKit second = ActorTestKit.create("jobs", WireCheck.clusterConfig());
    try {
      Cluster c1 = Cluster.get(first.system());
      Cluster c2 = Cluster.get(second.system());
      c1.manager().tell(Join.create(c1.selfMember().address()));
      c2.manager().tell(Join.create(c1.selfMember().address()));
      var probe = first.createTestProbe();
      probe.awaitAssert(Duration.ofSeconds(20), () -> {
        assertEquals(MemberStatus.up(), c1.selfMember().status());
        assertEquals(MemberStatus.up(), c2.selfMember().status());
        assertEquals(2, c2.state().members().size());
        return null;
      });
      EntityHost h1 = EntityHost.cluster(first.system());
      EntityHost h2 = EntityHost.cluster(second.system());
      assertTrue(h1.clustered(), "a cluster host starts every entity kind at start");
      assertFalse(EntityHost.local(first.system()).clustered());
      assertTrue(h1.runsJournalJobs(), "the oldest member sweeps");
      assertFalse(h2.runsJournalJobs(), "the others do not");

      c1.manager().tell(Leave.create(c1.selfMember().address()));
      probe.awaitAssert(Duration.ofSeconds(30), () -> {
        assertTrue(h2.runsJournalJobs(), "once the oldest left, the next oldest sweeps");
        return null;
      });
    } finally {
      second.shutdownTestKit();
      first.shutdownTestKit();
    }
  }
}
