package io.pekkollm.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.Config;
import io.pekkollm.api.LlmConfig;
import java.util.Map;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.apache.pekko.http.javadsl.settings.ParserSettings;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.junit.jupiter.api.Test;

/**
 * The Pekko HTTP settings in pekko-llm-pekko.conf that bound memory per open connection, read back through
 * Pekko's own settings classes (as the server, the connection pool and single connections see them).
 */
class PekkoHttpMemorySettingsTest {

  private static void assertNoHeaderValueCache(String who, ParserSettings parsing) {
    Map<String, Object> limits = parsing.getHeaderValueCacheLimits();
    assertFalse(limits.isEmpty(), who);
    // "default" covers every header not named; a named one (Pekko names User-Agent with 32) must not cache either.
    limits.forEach((header, limit) -> assertEquals(0, ((Number) limit).intValue(), who + ": " + header));
  }

  @Test
  void noConnectionCopiesTheSharedHeaderTrie() {
    Config c = LlmConfig.load();
    assertNoHeaderValueCache("server", ServerSettings.create(c).getParserSettings());
    assertNoHeaderValueCache("client", ClientConnectionSettings.create(c).getParserSettings());
    assertNoHeaderValueCache("pool", ConnectionPoolSettings.create(c).getConnectionSettings().getParserSettings());
  }
}
