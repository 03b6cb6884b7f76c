package io.pekkollm.http;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what idle or hoarded client connections can take from everyone else (one instance per server binding,
 * its stage materialized once per connection):
 * <ul>
 *   <li>a connection without a request in progress (just accepted, sending its headers slowly, or idle between
 *   requests) is closed after {@code request-header-timeout}; one whose response is still streaming stays open;</li>
 *   <li>a client address holding {@code max-per-address} connections has its next ones closed at once;</li>
 *   <li>the last {@code reserved-for-health} of Pekko's {@code max-connections} are kept for probes: a
 *   connection accepted there answers {@code GET /health} and 503 to anything else, then closes.</li>
 * </ul>
 * The client address comes from the stream attribute Pekko HTTP adds with {@code remote-address-attribute}; the
 * gateway turns that setting on.
 */
final class ConnectionLimits {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimits.class);

  /** Set on requests of a connection accepted in the health reserve. */
  static final AttributeKey<Boolean> HEALTH_ONLY = AttributeKey.create("pekko-llm-health-only", Boolean.class);

  /**
   * {@code pekko-llm.gateway.connections}: see reference.conf.
   *
   * @param requestHeaderTimeout how long a connection may go without a request in progress; zero = no limit
   * @param maxPerAddress        connections one client address may hold; 0 = no limit
   * @param reservedForHealth    connections of Pekko's max-connections kept for {@code GET /health}
   */
  record Settings(Duration requestHeaderTimeout, int maxPerAddress, int reservedForHealth) {
    static Settings create(Config c) {
      Settings s = new Settings(c.getDuration("request-header-timeout"), c.getInt("max-per-address"),
          c.getInt("reserved-for-health"));
      if (s.requestHeaderTimeout.isNegative() || s.maxPerAddress < 0 || s.reservedForHealth < 0) {
        throw new IllegalArgumentException("pekko-llm.gateway.connections values must not be negative: " + s);
      }
      return s;
    }
  }

  private final Settings settings;
  private final int ordinaryMax;
  private final int healthMax;
  private final AtomicInteger ordinary = new AtomicInteger();
  private final AtomicInteger healthOnly = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();

  /** {@code maxConnections} is Pekko's {@code max-connections}, the most connections accepted at once. */
  ConnectionLimits(Settings settings, int maxConnections) {
    this.settings = settings;
    this.healthMax = Math.min(settings.reservedForHealth(), Math.max(0, maxConnections - 1));
    this.ordinaryMax = maxConnections - healthMax;
  }

  /** {@code handler} behind this connection's limits, for {@code bindFlow}. */
  Flow<HttpRequest, HttpResponse, NotUsed> flow(Flow<HttpRequest, HttpResponse, NotUsed> handler) {
    return BidiFlow.fromGraph(new Stage()).join(handler);
  }

  /** Open connections of {@code address} now (for tests). */
  int connections(InetAddress address) {
    AtomicInteger n = perAddress.get(address);
    return n == null ? 0 : n.get();
  }

  private enum Admission { ORDINARY, HEALTH_ONLY, REFUSED }

  private Admission admit(InetAddress address) {
    if (address != null && settings.maxPerAddress() > 0) {
      int n = perAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet();
      if (n > settings.maxPerAddress()) {
        return Admission.REFUSED;
      }
    }
    if (ordinary.incrementAndGet() <= ordinaryMax) {
      return Admission.ORDINARY;
    }
    ordinary.decrementAndGet();
    if (healthOnly.incrementAndGet() <= healthMax) {
      return Admission.HEALTH_ONLY;
    }
    healthOnly.decrementAndGet();
    return Admission.REFUSED;
  }

  private void release(InetAddress address, Admission admission) {
    if (admission == Admission.ORDINARY) {
      ordinary.decrementAndGet();
    } else if (admission == Admission.HEALTH_ONLY) {
      healthOnly.decrementAndGet();
    }
    if (address != null && settings.maxPerAddress() > 0) {
      perAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
    }
  }

  private static InetAddress remoteAddress(Attributes attributes) {
    return attributes.getAttribute(org.apache.pekko.http.impl.engine.server.HttpAttributes.RemoteAddress.class)
        .map(a -> a.address())
        .map(InetSocketAddress::getAddress)
        .orElse(null);
  }

  /** Requests in (from the network) and out (to the handler); responses in (from it) and out (to the network). */
  private final class Stage extends GraphStage<BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse>> {
    final Inlet<HttpRequest> requestIn = Inlet.create("ConnectionLimits.requestIn");
    final Outlet<HttpRequest> requestOut = Outlet.create("ConnectionLimits.requestOut");
    final Inlet<HttpResponse> responseIn = Inlet.create("ConnectionLimits.responseIn");
    final Outlet<HttpResponse> responseOut = Outlet.create("ConnectionLimits.responseOut");
    final BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape =
        BidiShape.of(requestIn, requestOut, responseIn, responseOut);

    @Override
    public BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
      InetAddress address = remoteAddress(inheritedAttributes);
      return new TimerGraphStageLogic(shape) {
        private Admission admission;
        private int inProgress;
        private AsyncCallback<NotUsed> responseDone;

        {
          setHandler(requestIn, new AbstractInHandler() {
            @Override
            public void onPush() {
              HttpRequest req = grab(requestIn);
              inProgress++;
              cancelTimer("idle");
              push(requestOut, admission == Admission.HEALTH_ONLY ? req.addAttribute(HEALTH_ONLY, true) : req);
            }

            @Override
            public void onUpstreamFinish() {
              complete(requestOut);
            }
          });
          setHandler(requestOut, new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(requestIn);
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              cancel(requestIn, cause);
            }
          });
          setHandler(responseIn, new AbstractInHandler() {
            @Override
            public void onPush() {
              HttpResponse resp = grab(responseIn);
              if (resp.entity().isStrict()) {
                push(responseOut, resp);
                responseFinished();
              } else {
                push(responseOut, resp.withEntity(watched(resp)));
              }
            }

            @Override
            public void onUpstreamFinish() {
              complete(responseOut);
            }
          });
          setHandler(responseOut, new AbstractOutHandler() {
            @Override
            public void onPull() {
              pull(responseIn);
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              cancel(responseIn, cause);
            }
          });
        }

        @Override
        public void preStart() {
          responseDone = createAsyncCallback(x -> responseFinished());
          admission = admit(address);
          if (admission == Admission.REFUSED) {
            LOG.debug("closing a connection from {}: over pekko-llm.gateway.connections limits", address);
            completeStage();
            return;
          }
          idle();
        }

        @Override
        public void postStop() {
          if (admission != null) {
            release(address, admission);
          }
        }

        @Override
        public void onTimer(Object key) {
          // No request in progress for request-header-timeout: free the connection for someone else.
          completeStage();
        }

        private void responseFinished() {
          inProgress = Math.max(0, inProgress - 1);
          if (inProgress == 0) {
            idle();
          }
        }

        private void idle() {
          if (!settings.requestHeaderTimeout().isZero()) {
            scheduleOnce("idle", settings.requestHeaderTimeout());
          }
        }

        /** The response's entity, reporting to this stage when its last byte was taken (or it failed). */
        private org.apache.pekko.http.javadsl.model.ResponseEntity watched(HttpResponse resp) {
          Flow<ByteString, ByteString, Object> watch = Flow.<ByteString>create()
              .watchTermination((NotUsed nu, CompletionStage<org.apache.pekko.Done> done) -> {
                done.whenComplete((d, e) -> responseDone.invoke(NotUsed.getInstance()));
                return (Object) nu;
              });
          return ((org.apache.pekko.http.scaladsl.model.ResponseEntity) resp.entity()).transformDataBytes(watch.asScala());
        }
      };
    }
  }
}
