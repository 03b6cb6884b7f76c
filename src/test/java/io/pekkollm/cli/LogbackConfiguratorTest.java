package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class LogbackConfiguratorTest {
  @TempDir
  Path tmp;

  private static LoggerContext fromXml() throws Exception {
    LoggerContext ctx = new LoggerContext();
    JoranConfigurator j = new JoranConfigurator();
    j.setContext(ctx);
    j.doConfigure(LogbackConfigurator.class.getClassLoader().getResource("logback.xml"));
    return ctx;
  }

  private static LoggerContext fromCode() {
    LoggerContext ctx = new LoggerContext();
    LogbackConfigurator.apply(ctx);
    return ctx;
  }

  /** What matters of a configuration, as text. */
  private static List<String> describe(LoggerContext ctx) {
    List<String> out = new ArrayList<>();
    for (String name : List.of(Logger.ROOT_LOGGER_NAME, "org.apache.pekko", "io.pekkollm", "io.pekkollm.access",
        "org.apache.pekko.http", "com.zaxxer")) {
      Logger l = ctx.getLogger(name);
      out.add(name + " level=" + l.getLevel() + " effective=" + l.getEffectiveLevel() + " additive=" + l.isAdditive());
      l.iteratorForAppenders().forEachRemaining(a -> out.add(name + " -> " + appender(a)));
    }
    return out;
  }

  private static String appender(Appender<ILoggingEvent> a) {
    if (a instanceof AsyncAppender as) {
      List<String> inner = new ArrayList<>();
      as.iteratorForAppenders().forEachRemaining(x -> inner.add(appender(x)));
      return "async " + as.getName() + " queue=" + as.getQueueSize() + " discard=" + as.getDiscardingThreshold()
          + " neverBlock=" + as.isNeverBlock() + " started=" + as.isStarted() + " " + inner;
    }
    if (a instanceof ConsoleAppender<ILoggingEvent> c) {
      return "console " + c.getName() + " target=" + c.getTarget() + " started=" + c.isStarted() + " pattern="
          + ((PatternLayoutEncoder) c.getEncoder()).getPattern();
    }
    return a.getClass().getName();
  }

  @Test
  void codeConfiguresWhatTheXmlSays() throws Exception {
    assertEquals(describe(fromXml()), describe(fromCode()));
  }

  @Test
  void levelVariablesAreReadLikeTheXmlReadsThem() throws Exception {
    System.setProperty("PEKKO_LLM_LOG_LEVEL", "debug");
    System.setProperty("PEKKO_LLM_PEKKO_LOG_LEVEL", "info");
    try {
      List<String> code = describe(fromCode());
      assertEquals(describe(fromXml()), code);
      assertTrue(code.contains("io.pekkollm level=DEBUG effective=DEBUG additive=true"), code.toString());
    } finally {
      System.clearProperty("PEKKO_LLM_LOG_LEVEL");
      System.clearProperty("PEKKO_LLM_PEKKO_LOG_LEVEL");
    }
  }

  @Test
  void theRunningConfigurationIsOurs() {
    // No logback-test.xml in this project: logback ran the configurator found through META-INF/services.
    assertTrue(LogbackConfigurator.ourXmlWouldApply(LogbackConfigurator.class.getClassLoader()));
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    Appender<ILoggingEvent> a = ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("ASYNC");
    assertInstanceOf(AsyncAppender.class, a);
  }

  @Test
  void stepsAsideForAnotherLogbackXmlOrAnExplicitFile() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("app"));
    Files.writeString(dir.resolve("logback.xml"), "<configuration/>");
    ClassLoader own = LogbackConfigurator.class.getClassLoader();
    try (URLClassLoader appFirst = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
      // An application's logback.xml found first: not ours.
      assertFalse(LogbackConfigurator.ourXmlWouldApply(appFirst));
    }
    System.setProperty("logback.configurationFile", dir.resolve("logback.xml").toString());
    try {
      assertFalse(LogbackConfigurator.ourXmlWouldApply(own));
    } finally {
      System.clearProperty("logback.configurationFile");
    }
  }
}
