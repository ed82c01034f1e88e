package io.marketlift.sdk;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command-line driver of the SDK for the tests and the benchmark written in Python (they start
 * a real {@code marketlift serve} and kill this process). One JSON object per output line.
 *
 * <pre>
 * track ENDPOINT QUEUE N PREFIX BATCH FLUSH_MS [background]
 *                                                track N events, print {"ack": id} after each,
 *                                                (then call onBackground), then wait to be
 *                                                killed (stdin closed: exit)
 * drain ENDPOINT QUEUE                           flush until empty, print {"drained": n}
 * decide ENDPOINT QUEUE REQUEST_JSON             print the parsed decision
 * assign ENDPOINT QUEUE ANON BUYER|- EXPERIMENTS  refreshAssignments, then print the server's
 *                                                answer, assign(key) of each and the local
 *                                                variant of each experiment in EXPERIMENTS
 *                                                (a JSON object key -> experiment)
 * validate                                       for each event JSON line on stdin, print the
 *                                                first error {field, value, expected} or {}
 * bench ENDPOINT QUEUE N                         time track + file queue + flush
 * direct ENDPOINT N BATCH                        the same events POSTed with no queue
 * </pre>
 */
public final class Driver {
  private static final Charset UTF8 = Charset.forName("UTF-8");

  private Driver() {}

  /**
   * Runs one command.
   *
   * @param args the command and its arguments
   * @throws Exception on any failure (the exit status is then 1)
   */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, "UTF-8");
    String cmd = args[0];
    if ("track".equals(cmd)) {
      Marketlift ml = open(args[1], args[2], Integer.parseInt(args[5]), Long.parseLong(args[6]));
      int n = Integer.parseInt(args[3]);
      for (int i = 0; i < n; i++) {
        String id = ml.track("search", Marketlift.fields("query", args[4] + "-" + i,
            "results_count", i));
        out.println("{\"ack\":\"" + id + "\"}");
      }
      if (args.length > 7 && "background".equals(args[7])) {
        ml.onBackground();
      }
      out.println("{\"done\":" + n + "}");
      while (System.in.read() != -1) {
        // Wait to be killed, or for the test to close stdin.
      }
      ml.close();
    } else if ("drain".equals(cmd)) {
      Marketlift ml = open(args[1], args[2], 100, 60_000);
      int before = ml.queued();
      long deadline = System.currentTimeMillis() + 30_000;
      while (!ml.flush() && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      out.println("{\"drained\":" + before + ",\"left\":" + ml.queued() + "}");
      ml.close();
    } else if ("decide".equals(cmd)) {
      Marketlift ml = open(args[1], args[2], 50, 60_000);
      @SuppressWarnings("unchecked")
      Map<String, Object> request = (Map<String, Object>) MiniJson.INSTANCE.read(args[3]);
      Decision d = ml.decide(request);
      List<Object> listings = new ArrayList<Object>();
      for (Decision.Listing l : d.listings) {
        listings.add(Marketlift.fields("listing_id", l.listingId, "score", l.score, "reason",
            l.reason));
      }
      out.println(MiniJson.INSTANCE.write(Marketlift.fields("decision_id", d.decisionId,
          "listings", listings, "engagement", d.engagement, "assignments", d.assignments,
          "degraded", d.degraded, "degraded_reasons", d.degradedReasons,
          "anonymous_id", ml.anonymousId())));
      ml.close();
    } else if ("assign".equals(cmd)) {
      Marketlift ml = open(args[1], args[2], 50, 60_000);
      ml.identify(args[3], "-".equals(args[4]) ? null : args[4]);
      List<Map<String, Object>> server = ml.refreshAssignments();
      Map<String, Object> cached = new LinkedHashMap<String, Object>();
      Map<String, Object> local = new LinkedHashMap<String, Object>();
      Map<?, ?> experiments = (Map<?, ?>) MiniJson.INSTANCE.read(args[5]);
      for (Map.Entry<?, ?> e : experiments.entrySet()) {
        String key = (String) e.getKey();
        cached.put(key, ml.assign(key));
        Map<String, Object> byUnit = new LinkedHashMap<String, Object>();
        for (String unit : new String[] {args[3], args[4]}) {
          byUnit.put(unit, Experiment.fromMap(key, (Map<?, ?>) e.getValue()).variantOf(unit));
        }
        local.put(key, byUnit);
      }
      out.println(MiniJson.INSTANCE.write(Marketlift.fields("server", server, "cached", cached,
          "local", local)));
      ml.close();
    } else if ("validate".equals(cmd)) {
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, UTF8));
      String line;
      while ((line = in.readLine()) != null) {
        @SuppressWarnings("unchecked")
        Map<String, Object> event = (Map<String, Object>) MiniJson.INSTANCE.read(line);
        Map<String, Object> answer = new LinkedHashMap<String, Object>();
        try {
          EventValidator.validate(event);
        } catch (MarketliftException e) {
          answer.put("field", e.field);
          answer.put("value", String.valueOf(e.value));
          answer.put("expected", e.expected);
          answer.put("message", e.getMessage());
        }
        out.println(MiniJson.INSTANCE.write(answer));
      }
    } else if ("bench".equals(cmd)) {
      bench(out, args[1], args[2], Integer.parseInt(args[3]));
    } else if ("direct".equals(cmd)) {
      direct(out, args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    } else {
      throw new IllegalArgumentException("unknown command " + cmd);
    }
  }

  private static Marketlift open(String endpoint, String dir, int batch, long flushMs)
      throws Exception {
    return Marketlift.create(new Marketlift.Config(endpoint, new File(dir))
        .appVersion("driver-1").locale("en-US").country("DE").batchSize(batch)
        .flushIntervalMs(flushMs).retryBaseMs(100).retryMaxMs(1000)
        .listener(new Marketlift.Listener() {
          @Override
          public void onDropped(int count, String reason) {
            System.err.println("dropped " + count + ": " + reason);
          }

          @Override
          public void onRejected(List<Map<String, Object>> rejected) {
            System.err.println("rejected " + rejected);
          }
        }));
  }

  private static void bench(PrintStream out, String endpoint, String dir, int n)
      throws Exception {
    Marketlift ml = open(endpoint, dir, 500, 3_600_000);
    String[] queries = {"ceramic mug", "linen napkins", "oak bowl", "wool throw"};
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      ml.track("search", Marketlift.fields("query", queries[i % queries.length],
          "results_count", i % 97, "category", "home"));
    }
    long t1 = System.nanoTime();
    long bytes = ml.queuedBytes();
    int queued = ml.queued();
    boolean empty = ml.flush();
    long t2 = System.nanoTime();
    out.println(MiniJson.INSTANCE.write(Marketlift.fields("events", n, "queued", queued,
        "queue_bytes", bytes, "track_s", (t1 - t0) / 1e9, "flush_s", (t2 - t1) / 1e9,
        "empty", empty, "left", ml.queued())));
    ml.close();
  }

  private static void direct(PrintStream out, String endpoint, int n, int batch)
      throws Exception {
    HttpTransport http = new HttpTransport();
    Map<String, String> headers = new LinkedHashMap<String, String>();
    headers.put("Content-Type", "application/json");
    String[] queries = {"ceramic mug", "linen napkins", "oak bowl", "wool throw"};
    String anon = java.util.UUID.randomUUID().toString();
    String session = java.util.UUID.randomUUID().toString();
    long t0 = System.nanoTime();
    StringBuilder body = new StringBuilder();
    int inBody = 0;
    for (int i = 0; i < n; i++) {
      Map<String, Object> e = Marketlift.fields("type", "search", "event_id",
          java.util.UUID.randomUUID().toString(), "schema_version", 1,
          "ts", Marketlift.iso(System.currentTimeMillis()), "platform", "android",
          "anonymous_id", anon, "session_id", session, "app_version", "driver-1",
          "locale", "en-US", "country", "DE", "query", queries[i % queries.length],
          "results_count", i % 97, "category", "home");
      body.append(inBody == 0 ? "[" : ",").append(MiniJson.INSTANCE.write(e));
      inBody++;
      if (inBody == batch || i == n - 1) {
        body.append(']');
        Transport.Response r = http.post(endpoint + "/v1/events",
            body.toString().getBytes(UTF8), headers, 15_000);
        if (r.status != 200) {
          throw new IllegalStateException("HTTP " + r.status + ": " + r.body);
        }
        body.setLength(0);
        inBody = 0;
      }
    }
    long t1 = System.nanoTime();
    out.println(MiniJson.INSTANCE.write(Marketlift.fields("events", n, "total_s",
        (t1 - t0) / 1e9)));
  }
}
