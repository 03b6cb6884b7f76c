package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.ProviderException;
import io.pekkollm.resilience.BreakerSettings;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.event.NoLogging;
import org.apache.pekko.testkit.ExplicitlyTriggeredScheduler;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.DurationConverters;

/**
 * The breaker set on its own: Pekko's breakers on an explicitly triggered scheduler and a manual clock, no actor.
 */
class BreakerSetTest {
  private final ExplicitlyTriggeredScheduler scheduler = new ExplicitlyTriggeredScheduler(ConfigFactory.empty(),
      NoLogging.getInstance(), null);
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final AtomicInteger halfOpened = new AtomicInteger();
  private final ProviderLoad load = new ProviderLoad("p");
  private long nextPermit = 1;

  private BreakerSet breakers(boolean enabled, boolean perModel, int maxTrackedModels) {
    BreakerSettings settings = new BreakerSettings(enabled, 3, Duration.ofSeconds(10), Duration.ofSeconds(60), 0, 10,
        1, perModel);
    return new BreakerSet("p", settings, maxTrackedModels, load,
        model -> new Breaker(settings, model, scheduler, clock::get, halfOpened::incrementAndGet));
  }

  private void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    scheduler.timePasses(DurationConverters.toScala(d));
  }

  /** Runs one call of {@code model} that the breakers let start; returns what its outcome changed. */
  private BreakerSet.Change call(BreakerSet set, String model, boolean providerFault) {
    assertNull(set.refusal(model), "expected " + model + " to be let through");
    long permit = nextPermit++;
    return set.ended(set.started(model, permit), model, permit, providerFault);
  }

  @Test
  void opensAfterConsecutiveFaultsRefusesWithTheTimeLeftAndClosesAfterOneProbe() {
    BreakerSet set = breakers(true, false, 10);
    assertNull(call(set, "m", true));
    assertNull(call(set, "m", true));
    BreakerSet.Change opened = call(set, "m", true);
    assertTrue(opened.opened());
    assertEquals("provider p", set.describe(opened.breaker()));
    assertEquals(1, load.breakerOpens());
    assertEquals(ProviderLoad.OPEN, load.breakerState());
    assertEquals("open", set.state());
    ProviderException refused = (ProviderException) set.refusal("m");
    assertEquals(ErrorKind.OVERLOADED, refused.kind());
    assertEquals("circuit_open", refused.errorCode());
    assertEquals(Duration.ofSeconds(10), refused.retryAfter().orElseThrow());

    advance(Duration.ofSeconds(4));
    assertEquals(6000, set.retryAfterMillis());
    advance(Duration.ofSeconds(6));
    assertEquals(1, halfOpened.get());
    assertEquals("half-open", set.state());
    long probe = nextPermit++;
    Breaker b = set.started("m", probe);
    assertEquals(Duration.ofSeconds(1), set.refusal("other").retryAfter().orElseThrow(), "one probe at a time");
    BreakerSet.Change closed = set.ended(b, "m", probe, false);
    assertFalse(closed.opened());
    assertEquals("closed", set.state());
    assertEquals(ProviderLoad.CLOSED, load.breakerState());
  }

  @Test
  void aFailedProbeOpensForTwiceAsLong() {
    BreakerSet set = breakers(true, false, 10);
    for (int i = 0; i < 3; i++) {
      call(set, "m", true);
    }
    advance(Duration.ofSeconds(10));
    assertTrue(call(set, "m", true).opened());
    assertEquals(Duration.ofSeconds(20), set.refusal("m").retryAfter().orElseThrow());
    assertEquals(2, load.breakerOpens());
  }

  @Test
  void callsStartedBeforeItOpenedAndCancelledProbesDecideNothing() {
    BreakerSet set = breakers(true, false, 10);
    long straggler = nextPermit++;
    Breaker atStart = set.started("m", straggler);
    for (int i = 0; i < 3; i++) {
      call(set, "m", true);
    }
    advance(Duration.ofSeconds(10));
    long probe = nextPermit++;
    Breaker b = set.started("m", probe);
    assertNull(set.ended(atStart, "m", straggler, false));
    assertEquals("half-open", set.state());
    // The probe is cancelled: the next call probes instead.
    set.cancelled(b, probe);
    assertNull(set.refusal("m"));
    assertFalse(call(set, "m", false).opened());
    assertEquals("closed", set.state());
  }

  @Test
  void perModelBreakersOpenOnlyForTheFailingModelAndAreDroppedOnceIdle() {
    BreakerSet set = breakers(true, true, 10);
    assertNull(set.guarding("good"), "no breaker before a model's first fault");
    for (int i = 0; i < 3; i++) {
      call(set, "bad", true);
    }
    assertNotNull(set.refusal("bad"));
    assertTrue(set.refusal("bad").getMessage().contains("p/bad"));
    assertNull(call(set, "good", false));
    assertNull(set.guarding("good"), "a success creates no breaker");
    assertEquals(List.of("bad"), set.openModels());
    assertEquals(1, load.openModelBreakers());
    assertEquals("closed", set.state(), "the provider-wide state stays closed");

    advance(Duration.ofSeconds(10));
    Breaker bad = set.guarding("bad");
    assertFalse(call(set, "bad", false).opened());
    assertEquals(List.of(), set.openModels());
    assertEquals(0, load.openModelBreakers());
    assertNull(set.guarding("bad"), "closed with nothing remembered: dropped");
    assertFalse(bad.probing());
  }

  @Test
  void atMostTheTrackedNumberOfModelsGetABreaker() {
    BreakerSet set = breakers(true, true, 1);
    call(set, "a", true);
    Breaker a = set.guarding("a");
    assertNotNull(a);
    assertNull(call(set, "b", true));
    assertNull(set.guarding("b"));
    assertSame(a, set.guarding("a"));
  }

  @Test
  void disabledBreakersNeverRefuse() {
    BreakerSet set = breakers(false, false, 10);
    for (int i = 0; i < 5; i++) {
      assertNull(call(set, "m", true));
    }
    assertEquals("disabled", set.state());
    assertEquals(0, set.retryAfterMillis());
    assertEquals(0, load.breakerOpens());
  }
}
