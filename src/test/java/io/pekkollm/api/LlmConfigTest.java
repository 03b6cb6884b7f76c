package io.pekkollm.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class LlmConfigTest {

  @Test
  void ourPekkoDefaultsWinOverEveryReferenceConfWhateverTheirOrder() {
    Config c = LlmConfig.load();
    assertEquals(8388608, c.getInt("pekko.http.sse.max-event-size"), "LLM events are larger than Pekko's 8 KiB");
    assertEquals(600, c.getDuration("pekko.http.client.idle-timeout").toSeconds());
    assertEquals(1024, c.getInt("pekko.http.server.backlog"));
    assertEquals(4096, c.getInt("pekko.http.server.max-connections"), "a streaming gateway holds a connection per stream");
    assertEquals(2048, c.getInt("pekko-llm.provider-defaults.max-connections"));
    assertEquals(4096, c.getInt("pekko-llm.provider-defaults.max-in-flight"));
    assertEquals("org.apache.pekko.event.slf4j.Slf4jLogger", c.getStringList("pekko.loggers").get(0));
    // Pekko's own value sits in reference.conf; the layering (not the class-path order) decides.
    assertEquals(8192, ConfigFactory.defaultReference().getInt("pekko.http.sse.max-event-size"));
  }

  @Test
  void systemPropertiesStillOverrideThem() {
    System.setProperty("pekko.http.server.backlog", "77");
    try {
      assertEquals(77, LlmConfig.load().getInt("pekko.http.server.backlog"));
    } finally {
      System.clearProperty("pekko.http.server.backlog");
      ConfigFactory.invalidateCaches();
    }
  }
}
