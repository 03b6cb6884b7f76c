package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StartupClassesTest {
  @Test
  void thePreloadListIsCurrent() throws Exception {
    ClassLoader loader = Main.class.getClassLoader();
    List<String> names = new ArrayList<>();
    try (InputStream in = loader.getResourceAsStream(Main.STARTUP_CLASSES)) {
      assertNotNull(in, Main.STARTUP_CLASSES);
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (!line.isEmpty() && line.charAt(0) != '#') {
          names.add(line);
        }
      }
    }
    List<String> missing = new ArrayList<>();
    for (String n : names) {
      // What Main.preloadClasses does: load, do not initialise.
      try {
        Class.forName(n, false, loader);
      } catch (ClassNotFoundException | LinkageError e) {
        missing.add(n);
      }
    }
    assertTrue(names.size() > 3000, "entries: " + names.size());
    // A few may go away with a dependency upgrade; many missing means the list is stale: regenerate it (see its
    // header).
    assertTrue(missing.size() < names.size() / 20, missing.size() + " of " + names.size() + " missing, e.g. "
        + missing.subList(0, Math.min(10, missing.size())));
    assertTrue(names.contains("io.pekkollm.http.GatewayServer"), "covers the gateway");
  }
}
