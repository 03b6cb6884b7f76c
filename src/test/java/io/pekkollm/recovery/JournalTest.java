package io.pekkollm.recovery;

import io.pekkollm.journal.JournalSettings;
import io.pekkollm.journal.JournalSchema;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamEvent.StoredToolDelta;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import io.pekkollm.testkit.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.Test;

/** The journal's schema handling, its event serialization, and retention. */
class JournalTest {

  private static JournalSettings h2(Path dir, String extra) {
    return JournalSettings.create(TestConfig.of("pekko-llm.recovery.data-dir = \"" + dir + "\"\n" + extra));
  }

  @Test
  void schemaCreationIsIdempotent() throws Exception {
    Path dir = Files.createTempDirectory("journal-schema");
    JournalSettings s = h2(dir, "");
    JournalSchema.ensure(s);
    JournalSchema.ensure(s);
    try (Connection c = JournalSchema.connect(s);
        ResultSet rs = c.getMetaData().getTables(null, null, "event_journal", null)) {
      assertTrue(rs.next(), "event_journal exists");
    }
  }

  @Test
  void aRealSqlErrorIsReportedNotSwallowed() {
    JournalSettings bad = JournalSettings.create(TestConfig.of(
        "pekko-llm.recovery.journal-url = \"jdbc:postgresql://127.0.0.1:1/none\""));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> JournalSchema.ensure(bad));
    assertTrue(e.getMessage().contains("cannot open the journal database jdbc:postgresql://127.0.0.1:1/none"),
        e.getMessage());
    IllegalArgumentException url = assertThrows(IllegalArgumentException.class, () -> JournalSettings.create(
        TestConfig.of("pekko-llm.recovery.journal-url = \"jdbc:mysql://x\"")));
    assertTrue(url.getMessage().contains("PEKKO_LLM_JOURNAL_URL"));
  }

  @Test
  void everyEventRoundTripsThroughTheConfiguredSerializer() {
    ActorTestKit kit = ActorTestKit.create(TestConfig.of(""));
    try {
      Serialization ser = SerializationExtension.get(kit.system().classicSystem());
      StoredUsage u = new StoredUsage(10, 20, 3, 0, 5);
      List<StreamEvent> events = List.of(
          new StreamEvent.Started("id1", "openai", "openai/gpt-4o", "{\"model\":\"openai/gpt-4o\"}", "inc", 1L,
              "{\"format\":\"messages\",\"id\":\"msg_1\"}", "w1", 1L, "0123456789abcdef"),
          new StreamEvent.Started("id0", "openai", "openai/gpt-4o", "{\"model\":\"openai/gpt-4o\"}", "inc", 1L, null,
              null, null, null),
          new StreamEvent.ChunksAppended(List.of(new StoredChunk(1, "héllo 🌍", null, List.of(), null, null),
              new StoredChunk(2, null, "thinking", List.of(new StoredToolDelta(0, "c1", "f", "{\"a\":")), "tool_calls", u),
              new StoredChunk(0, null, null, List.of(), null, u)), 2L, "w1", 2L),
          new StreamEvent.Interrupted("reset", "NETWORK", true, false, 3L, "w1", 3L),
          new StreamEvent.Completed("stop", u, 4L, null, null),
          new StreamEvent.Resumed(2, "paragraph", "anthropic/claude", 17, "inc2", 5L, "w2", 4L, 20, "openai/gpt-4o", 9),
          new StreamEvent.Resumed(2, "exact", "anthropic/claude", 17, "inc2", 5L, null, null, null, null, null));
      for (StreamEvent e : events) {
        var serializer = ser.findSerializerFor(e);
        assertEquals("org.apache.pekko.serialization.jackson.JacksonJsonSerializer", serializer.getClass().getName());
        byte[] bytes = serializer.toBinary(e);
        Object back = ser.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, e)).get();
        assertEquals(e, back);
      }
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void aStartedEventWrittenBeforeOriginAndOwnerExistedReadsWithoutThem() {
    ActorTestKit kit = ActorTestKit.create(TestConfig.of(""));
    try {
      Serialization ser = SerializationExtension.get(kit.system().classicSystem());
      StreamEvent.Started now = new StreamEvent.Started("id1", "openai", "openai/gpt-4o", "{}", "inc", 1L, "x", null,
          null, "k");
      var serializer = ser.findSerializerFor(now);
      // The bytes such an event had in the journal: the same JSON without the origin and owner fields.
      String json = new String(serializer.toBinary(now), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(json.contains("\"origin\":\"x\"") && json.contains("\"owner\":\"k\""), json);
      byte[] old = json.replace(",\"origin\":\"x\"", "").replace(",\"owner\":\"k\"", "")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      Object back = ser.deserialize(old, serializer.identifier(), Serializers.manifestFor(serializer, now)).get();
      assertEquals(new StreamEvent.Started("id1", "openai", "openai/gpt-4o", "{}", "inc", 1L, null, null, null, null),
          back);
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void retentionDeletesOldCompletedStreamsAndKeepsRecentOnes() throws Exception {
    Path dir = Files.createTempDirectory("journal-retention");
    var config = TestConfig.of("pekko-llm.recovery.data-dir = \"" + dir + "\"\n"
        + "pekko-llm.recovery.retention { completed = 1h, abandoned = 2h, sweep-interval = 0 }");
    try (var client = io.pekkollm.api.LlmClient.create(config)) {
      String done = client.streamJournaled(io.pekkollm.model.ChatRequest.builder("mock/echo").user("old").build())
          .toMat(org.apache.pekko.stream.javadsl.Sink.ignore(), org.apache.pekko.stream.javadsl.Keep.left())
          .run(client.system()).recoveryId();
      // Wait until the stream is recorded as completed.
      for (int i = 0; i < 200 && !client.streamStatus(done).toCompletableFuture().get().map(s -> s.status().equals("completed")).orElse(false); i++) {
        Thread.sleep(10);
      }
      JournalSettings s = JournalSettings.create(config);
      assertEquals(0, RetentionSweeper.sweep(s, System.currentTimeMillis()), "recent streams stay");
      assertEquals(1, RetentionSweeper.sweep(s, System.currentTimeMillis() + 3_600_000L + 1), "an hour later it goes");
      assertEquals(0, RetentionSweeper.sweep(s, System.currentTimeMillis() + 10_000_000L), "nothing left");
    }
  }
}
