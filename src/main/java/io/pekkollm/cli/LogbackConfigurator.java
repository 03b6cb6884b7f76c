package io.pekkollm.cli;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.net.URL;
import java.security.CodeSource;

/**
 * Applies pekko-llm's {@code logback.xml} in code (a logback {@link Configurator}, found through
 * {@code META-INF/services}), which spares start-up logback's XML configuration: an XML parser and several
 * hundred classes, about half a second of CPU in a cold JVM. It steps aside ({@code NEUTRAL}, logback then
 * configures itself as usual) whenever logback would not read our {@code logback.xml}: a
 * {@code logback.configurationFile} or {@code logback.scmoFile} property, a {@code logback-test.xml} or
 * {@code logback.scmo} resource, or a {@code logback.xml} that comes first on the class path from anywhere but
 * the jar or directory of this class (an application embedding the library keeps its own configuration).
 * Keep the two in step: LogbackConfiguratorTest compares them.
 */
public final class LogbackConfigurator extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (!ourXmlWouldApply(getClass().getClassLoader())) {
      return ExecutionStatus.NEUTRAL;
    }
    apply(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  static boolean ourXmlWouldApply(ClassLoader loader) {
    if (System.getProperty("logback.configurationFile") != null || System.getProperty("logback.scmoFile") != null
        || loader.getResource("logback-test.scmo") != null || loader.getResource("logback.scmo") != null
        || loader.getResource("logback-test.xml") != null) {
      return false;
    }
    URL xml = loader.getResource("logback.xml");
    CodeSource own = LogbackConfigurator.class.getProtectionDomain().getCodeSource();
    if (xml == null || own == null || own.getLocation() == null) {
      return false;
    }
    String location = own.getLocation().toString();
    String url = xml.toString();
    return url.equals("jar:" + location + "!/logback.xml")
        || (location.endsWith("/") && url.equals(location + "logback.xml"));
  }

  /** What logback.xml says. */
  static void apply(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();

    ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
    stdout.setContext(context);
    stdout.setName("STDOUT");
    stdout.setEncoder(encoder);
    stdout.start();

    AsyncAppender async = new AsyncAppender();
    async.setContext(context);
    async.setName("ASYNC");
    async.setQueueSize(8192);
    async.setDiscardingThreshold(0);
    async.setNeverBlock(true);
    async.addAppender(stdout);
    async.start();

    context.getLogger("org.apache.pekko").setLevel(level("PEKKO_LLM_PEKKO_LOG_LEVEL", Level.WARN));
    context.getLogger("io.pekkollm").setLevel(level("PEKKO_LLM_LOG_LEVEL", Level.INFO));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(async);
  }

  /** Like logback's {@code ${NAME:-default}}: a system property, else an environment variable, else the default. */
  private static Level level(String name, Level dflt) {
    String v = System.getProperty(name);
    if (v == null) {
      v = System.getenv(name);
    }
    if (v == null) {
      return dflt;
    }
    // As logback's XML configuration reads a logger's level attribute.
    String t = v.trim();
    return t.equalsIgnoreCase("INHERITED") || t.equalsIgnoreCase("NULL") ? null : Level.toLevel(t);
  }
}
