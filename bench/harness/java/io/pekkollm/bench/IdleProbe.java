package io.pekkollm.bench;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code IdleProbe URL MODEL N HOLD_SECONDS}: opens N streams, waits for their first chunk, holds, cancels them. */
public final class IdleProbe {
  private IdleProbe() {}

  public static void main(String[] args) throws Exception {
    URI url = URI.create(args[0]);
    int n = Integer.parseInt(args[2]);
    try (StreamClient sc = new StreamClient(2)) {
      List<StreamClient.Handle> hs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        hs.add(sc.start(url, args[1], args.length > 4 ? args[4] : null));
      }
      int ok = 0;
      for (StreamClient.Handle h : hs) {
        try {
          h.first.get(60, TimeUnit.SECONDS);
          ok++;
        } catch (Exception e) {
          System.out.println("no first chunk: " + e.getMessage());
        }
      }
      System.out.println(ok + " of " + n + " streams started; holding " + args[3] + " s");
      Thread.sleep(Long.parseLong(args[3]) * 1000);
      hs.forEach(StreamClient.Handle::cancel);
      System.out.println("cancelled");
      Thread.sleep(3000);
    }
  }
}
