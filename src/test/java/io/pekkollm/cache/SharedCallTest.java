package io.pekkollm.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ChatChunk;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A shared upstream call: late readers replay from the start; the upstream stops when every reader has gone. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SharedCallTest {
  private final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString("pekko.loglevel = WARNING"));

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  /** An upstream that never ends by itself: completes its future when it is stopped. */
  private Pair<UniqueKillSwitch, CompletionStage<Done>> never(SharedCall call) {
    Pair<UniqueKillSwitch, CompletionStage<Done>> p = Source.<ChatChunk>maybe()
        .viaMat(KillSwitches.single(), Keep.right())
        .toMat(Sink.foreach(call::add), Keep.both())
        .run(kit.system());
    call.attach(p.first());
    return p;
  }

  @Test
  void aLeaderThatNeverReadsReleasesTheUpstream() {
    SharedCall call = new SharedCall();
    Pair<UniqueKillSwitch, CompletionStage<Done>> upstream = never(call);
    call.releaseLeader();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> upstream.second().toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertInstanceOf(SharedCall.Abandoned.class, e.getCause());
    assertTrue(call.wasAbandoned());
    TestSubscriber.Probe<ChatChunk> late = call.reader().runWith(TestSink.create(kit.system()), kit.system());
    assertInstanceOf(SharedCall.Abandoned.class, late.request(1).expectError(), "a reader after that looks up again");
  }

  @Test
  void theUpstreamRunsWhileAnyReaderRemainsAndLateReadersReplayFromTheStart() {
    SharedCall call = new SharedCall();
    Pair<UniqueKillSwitch, CompletionStage<Done>> upstream = never(call);
    call.add(ChatChunk.text("a"));
    TestSubscriber.Probe<ChatChunk> leader = call.leaderReader().runWith(TestSink.create(kit.system()), kit.system());
    assertEquals("a", leader.requestNext().textDelta());
    call.add(ChatChunk.text("b"));
    TestSubscriber.Probe<ChatChunk> follower = call.reader().runWith(TestSink.create(kit.system()), kit.system());
    assertEquals(List.of("a", "b"), List.of(follower.requestNext().textDelta(), follower.requestNext().textDelta()));
    leader.cancel();
    call.add(ChatChunk.text("c"));
    assertEquals("c", follower.requestNext().textDelta(), "one reader left: the call goes on");
    assertFalse(upstream.second().toCompletableFuture().isDone());
    follower.cancel();
    assertThrows(ExecutionException.class, () -> upstream.second().toCompletableFuture().get(5, TimeUnit.SECONDS));
  }

  @Test
  void everyReaderSeesTheEndOrTheFailure() {
    SharedCall done = new SharedCall();
    done.add(ChatChunk.text("x"));
    done.finish();
    TestSubscriber.Probe<ChatChunk> r = done.leaderReader().runWith(TestSink.create(kit.system()), kit.system());
    assertEquals("x", r.requestNext().textDelta());
    r.request(1).expectComplete();

    SharedCall failed = new SharedCall();
    failed.add(ChatChunk.text("y"));
    TestSubscriber.Probe<ChatChunk> f = failed.reader().runWith(TestSink.create(kit.system()), kit.system());
    assertEquals("y", f.requestNext().textDelta());
    failed.fail(new IllegalStateException("boom"));
    assertEquals("boom", f.request(1).expectError().getMessage());
  }
}
