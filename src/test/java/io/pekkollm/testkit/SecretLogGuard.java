package io.pekkollm.testkit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails any test class during which a log line carried one of the test suite's secrets ({@link #SECRETS}: the API
 * keys TestConfig and the tests give providers, webhooks and gateways). Registered for every test class by JUnit's
 * extension auto-detection ({@code src/test/resources/junit-platform.properties} and
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension}), so no class can forget it.
 *
 * <p>How: before the first class, one appender is attached to logback's root logger, where every line the suite
 * writes passes (whatever its logger; the console appender behind it is asynchronous, this one is not). It keeps the
 * lines, message and stack trace, that contain a secret. After each class, what it kept fails that class, and is
 * cleared. Checking per class, rather than in one test that runs last, needs no test ordering and names the class
 * that leaked; a line logged asynchronously after its class ended (Pekko's logging actor) fails the next class, and
 * the message says so.
 */
public final class SecretLogGuard implements BeforeAllCallback, AfterAllCallback {
  /** The secrets no test may see logged (prefixes of the test keys). */
  public static final List<String> SECRETS = List.of("sk-test-key-", "sk-ant-test", "AIzaSyA1234567890",
      "AKIAABCDEFGHIJKLMNOP", "hook-secret-", "TESTSECRET");

  private static final Recorder RECORDER = new Recorder();

  @Override
  public void beforeAll(ExtensionContext context) {
    install();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<String> leaked = drain();
    if (!leaked.isEmpty()) {
      throw new AssertionError(leaked.size() + " log line(s) written during " + context.getDisplayName()
          + " (or just before it, by an earlier class's asynchronous logging) contain a test secret:\n"
          + String.join("\n---\n", leaked));
    }
  }

  /** Attaches the recorder to the root logger, once per JVM. */
  public static synchronized void install() {
    if (RECORDER.isStarted()) {
      return;
    }
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    RECORDER.setContext(context);
    RECORDER.setName("secret-log-guard");
    RECORDER.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(RECORDER);
  }

  /** The lines with a secret seen since the last drain, which are forgotten. */
  public static List<String> drain() {
    List<String> out = new ArrayList<>();
    String s;
    while ((s = RECORDER.leaked.poll()) != null) {
      out.add(s);
    }
    return out;
  }

  private static final class Recorder extends AppenderBase<ILoggingEvent> {
    final ConcurrentLinkedQueue<String> leaked = new ConcurrentLinkedQueue<>();

    @Override
    protected void append(ILoggingEvent event) {
      String text = event.getFormattedMessage();
      if (event.getThrowableProxy() != null) {
        text = text + "\n" + ThrowableProxyUtil.asString(event.getThrowableProxy());
      }
      for (String secret : SECRETS) {
        if (text != null && text.contains(secret)) {
          leaked.add(event.getLoggerName() + " " + event.getLevel() + ": " + text);
          return;
        }
      }
    }
  }
}
