package io.pekkollm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The interactive chat end to end through standard input against the mock provider. */
class ChatReplTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private String session(String input, String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "chat";
    System.arraycopy(args, 0, all, 1, args.length);
    int code = Main.run(all, new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void answersStreamAndCommandsWork() {
    String shown = session("hello repl\n/model\n/system be brief\n/cost\nsecond line\n/reset\n/help\n/bogus\n/exit\n"
        + "never sent\n");
    assertTrue(shown.contains("pekko-llm chat with mock/echo"), shown);
    assertTrue(shown.contains("hello repl\n") || shown.contains("hello repl\r\n"), shown);
    assertTrue(shown.contains("model: mock/echo"), shown);
    assertTrue(shown.contains("system prompt set"), shown);
    assertTrue(shown.matches("(?s).*tokens: \\d+ in, \\d+ out; cost: .*"), shown);
    assertTrue(shown.contains("second line"), shown);
    assertTrue(shown.contains("conversation cleared"), shown);
    assertTrue(shown.contains("/system [text]"), "help lists the commands: " + shown);
    assertTrue(shown.contains("unknown command /bogus"), shown);
    assertTrue(!shown.contains("never sent\n") || shown.indexOf("never sent") < shown.lastIndexOf("/exit"),
        "nothing is sent after /exit: " + shown);
  }

  @Test
  void endOfInputLeaves() {
    String shown = session("hi\n");
    assertTrue(shown.contains("hi"), shown);
  }

  @Test
  void aProviderErrorIsShownAndTheConversationGoesOn() {
    String shown = session("/model mock/error-429\nfirst\n/model mock/echo\nagain\n/exit\n");
    assertTrue(shown.contains("error: RATE_LIMITED"), shown);
    assertTrue(shown.contains("again"), shown);
  }

  @Test
  void anUnknownModelIsRefusedByModel() {
    String shown = session("/model nosuchprovider/x\n/model\n/exit\n");
    assertTrue(shown.contains("error: "), shown);
    assertTrue(shown.contains("model: mock/echo"), "the model is unchanged: " + shown);
  }
}
