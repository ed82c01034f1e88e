package io.marketlift.sdk;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * The marketlift client for Android apps and the JVM.
 *
 * <p>{@link #track} checks an event with the collector's rules, appends it to a file queue and
 * returns its {@code event_id} once the event is in the file: from then on it survives the app
 * being killed. One background thread sends the queue in batches to {@code POST /v1/events}
 * (when {@code batchSize} events wait, {@code flushIntervalMs} after an event, on {@link
 * #flush} and on {@link #onBackground}), resending a failed batch with the same {@code
 * event_id}s after a backoff that honours {@code Retry-After}; the collector stores each event
 * once. {@link #decide} asks the decision API, {@link #assign(Experiment)} assigns variants
 * exactly as the server does and remembers them per experiment.
 *
 * <pre>{@code
 * Marketlift ml = Marketlift.create(new Marketlift.Config("https://collect.example.com",
 *     new File(context.getFilesDir(), "marketlift")).appVersion("3.2.0").locale("de-DE"));
 * ml.track("search", Marketlift.fields("query", "ceramic mug", "results_count", 42));
 * }</pre>
 *
 * <p>Thread-safe. {@link #track}, {@link #identify}, {@link #assign} and {@link #onBackground}
 * never touch the network and may run on the main thread; {@link #flush} and {@link #decide}
 * block on the network and refuse to run on Android's main thread.
 */
public final class Marketlift {
  /** Version of this library. */
  public static final String VERSION = "0.1.0";

  private static final Charset UTF8 = Charset.forName("UTF-8");
  private static final long MAX_BATCH_BYTES = 4L * 1024 * 1024;
  private static final int GZIP_ABOVE_BYTES = 1024;

  /** Callbacks about events that will never arrive. Called on the SDK's thread. */
  public abstract static class Listener {
    /**
     * The collector rejected events (they are not retried; it keeps them as dead letters).
     *
     * @param rejected the collector's entries: {@code index, event_id, errors: [{field, value,
     *     expected}]}
     */
    public void onRejected(List<Map<String, Object>> rejected) {}

    /**
     * Events were given up on: the queue was full, they outlived {@code maxAgeMs}, or the
     * collector refused the batch for good (a 4xx other than 408, 413, 422 and 429).
     *
     * @param count how many events
     * @param reason why
     */
    public void onDropped(int count, String reason) {}
  }

  /** Settings of a client: the endpoint and the queue directory, then optional ones. */
  public static final class Config {
    final String endpoint;
    final File queueDir;
    String platform = "android";
    String appVersion;
    String locale;
    String currency;
    String country;
    String writeKey;
    String decideKey;
    int batchSize = 50;
    long flushIntervalMs = 15_000;
    long maxQueueBytes = 10L * 1024 * 1024;
    long maxAgeMs = 7L * 24 * 3600 * 1000;
    long retryBaseMs = 1_000;
    long retryMaxMs = 300_000;
    int requestTimeoutMs = 15_000;
    int decideTimeoutMs = 2_000;
    long sessionTimeoutMs = 30L * 60 * 1000;
    long segmentBytes = 256L * 1024;
    boolean fsync;
    boolean gzip = true;
    JsonCodec json = MiniJson.INSTANCE;
    Transport transport = new HttpTransport();
    Listener listener = new Listener() {};

    /**
     * Starts a configuration.
     *
     * @param endpoint base URL of the collector, such as {@code https://collect.example.com}
     * @param queueDir a private directory of the app for the queue and the ids, such as {@code
     *     new File(context.getFilesDir(), "marketlift")}
     */
    public Config(String endpoint, File queueDir) {
      this.endpoint = endpoint;
      this.queueDir = queueDir;
      String device = java.util.Locale.getDefault().toLanguageTag();
      this.locale = device.matches("^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$") ? device : null;
    }

    /** @param v {@code android} (default), {@code ios} or {@code web} @return this */
    public Config platform(String v) {
      platform = v;
      return this;
    }

    /** @param v the app's version, stamped as {@code app_version} @return this */
    public Config appVersion(String v) {
      appVersion = v;
      return this;
    }

    /** @param v BCP 47 tag such as {@code de-DE} (default: the device's) @return this */
    public Config locale(String v) {
      locale = v;
      return this;
    }

    /** @param v ISO 4217 display currency such as {@code EUR} @return this */
    public Config currency(String v) {
      currency = v;
      return this;
    }

    /** @param v ISO 3166-1 alpha-2 country such as {@code DE} @return this */
    public Config country(String v) {
      country = v;
      return this;
    }

    /** @param v sent as {@code Authorization: Bearer} on events @return this */
    public Config writeKey(String v) {
      writeKey = v;
      return this;
    }

    /** @param v sent as {@code Authorization: Bearer} on decide @return this */
    public Config decideKey(String v) {
      decideKey = v;
      return this;
    }

    /** @param v most events per request, 1 to 1000 (default 50) @return this */
    public Config batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** @param v longest wait of an event before a send starts, ms (default 15000) @return this */
    public Config flushIntervalMs(long v) {
      flushIntervalMs = v;
      return this;
    }

    /** @param v most bytes of unsent events on the device (default 10 MiB) @return this */
    public Config maxQueueBytes(long v) {
      maxQueueBytes = v;
      return this;
    }

    /** @param v oldest unsent event kept, ms (default 7 days; the collector takes 30) @return this */
    public Config maxAgeMs(long v) {
      maxAgeMs = v;
      return this;
    }

    /** @param v first retry's backoff ceiling, ms (default 1000) @return this */
    public Config retryBaseMs(long v) {
      retryBaseMs = v;
      return this;
    }

    /** @param v largest backoff ceiling, ms (default 300000) @return this */
    public Config retryMaxMs(long v) {
      retryMaxMs = v;
      return this;
    }

    /** @param v connect and read timeout of a batch, ms (default 15000) @return this */
    public Config requestTimeoutMs(int v) {
      requestTimeoutMs = v;
      return this;
    }

    /** @param v timeout of {@link Marketlift#decide}, ms (default 2000) @return this */
    public Config decideTimeoutMs(int v) {
      decideTimeoutMs = v;
      return this;
    }

    /** @param v inactivity after which a new session starts, ms (default 30 min) @return this */
    public Config sessionTimeoutMs(long v) {
      sessionTimeoutMs = v;
      return this;
    }

    /** @param v size at which a new queue segment file starts (default 256 KiB) @return this */
    public Config segmentBytes(long v) {
      segmentBytes = v;
      return this;
    }

    /** @param v also flush every event to the disk (survives power loss; slower) @return this */
    public Config fsync(boolean v) {
      fsync = v;
      return this;
    }

    /** @param v gzip batches above 1 KiB (default true) @return this */
    public Config gzip(boolean v) {
      gzip = v;
      return this;
    }

    /** @param v the JSON codec (default {@link MiniJson}) @return this */
    public Config json(JsonCodec v) {
      json = v;
      return this;
    }

    /** @param v the HTTP transport (default {@link HttpTransport}) @return this */
    public Config transport(Transport v) {
      transport = v;
      return this;
    }

    /** @param v callbacks about rejected and dropped events @return this */
    public Config listener(Listener v) {
      listener = v;
      return this;
    }

    void check() {
      String c = "Marketlift.Config";
      if (endpoint == null || !endpoint.matches("^https?://.+")) {
        throw new MarketliftException(c, "endpoint", endpoint, "an http(s) URL");
      }
      if (queueDir == null) {
        throw new MarketliftException(c, "queueDir", null, "a directory private to the app");
      }
      if (!EventValidator.PLATFORMS.contains(platform)) {
        throw new MarketliftException(c, "platform", platform,
            EventValidator.oneOf(EventValidator.PLATFORMS));
      }
      if (batchSize < 1 || batchSize > 1000) {
        throw new MarketliftException(c, "batchSize", batchSize, "an integer from 1 to 1000");
      }
      long[] values = {flushIntervalMs, maxQueueBytes, maxAgeMs, retryBaseMs, retryMaxMs,
          requestTimeoutMs, decideTimeoutMs, sessionTimeoutMs, segmentBytes};
      String[] names = {"flushIntervalMs", "maxQueueBytes", "maxAgeMs", "retryBaseMs",
          "retryMaxMs", "requestTimeoutMs", "decideTimeoutMs", "sessionTimeoutMs",
          "segmentBytes"};
      for (int i = 0; i < values.length; i++) {
        long min = i == 0 ? 0 : 1;
        if (values[i] < min) {
          throw new MarketliftException(c, names[i], values[i], "a number >= " + min);
        }
      }
      if (maxQueueBytes < EventValidator.MAX_EVENT_BYTES + 64) {
        throw new MarketliftException(c, "maxQueueBytes", maxQueueBytes,
            "at least " + (EventValidator.MAX_EVENT_BYTES + 64) + " (one largest event)");
      }
      if (json == null || transport == null || listener == null) {
        String name = json == null ? "json" : transport == null ? "transport" : "listener";
        throw new MarketliftException(c, name, null, "an instance");
      }
    }
  }

  private final Config o;
  private final String eventsUrl;
  private final String decideUrl;
  private final String assignUrl;
  private final FileQueue queue;
  private final ScheduledExecutorService worker;
  private final Random random = new Random();
  private final Object lock = new Object();
  private final File stateFile;
  private Map<String, Object> state;
  private String sessionId;
  private long sessionLastMs;
  private ScheduledFuture<?> timer;
  private long backoffUntilMs;
  private int attempt;
  private int limit;
  private boolean closed;

  private Marketlift(Config config) throws IOException {
    config.check();
    this.o = config;
    String base = o.endpoint.replaceAll("/+$", "");
    if (base.endsWith("/v1/events")) {
      base = base.substring(0, base.length() - "/v1/events".length());
    }
    eventsUrl = base + "/v1/events";
    decideUrl = base + "/v1/decide";
    assignUrl = base + "/v1/assign";
    limit = o.batchSize;
    queue = new FileQueue(o.queueDir, o.maxQueueBytes, o.maxAgeMs, o.segmentBytes, o.fsync,
        new FileQueue.Clock() {
          @Override
          public long nowMs() {
            return System.currentTimeMillis();
          }
        });
    stateFile = new File(o.queueDir, "state.json");
    state = readState();
    if (!(state.get("anonymous_id") instanceof String)) {
      state.put("anonymous_id", UUID.randomUUID().toString());
      writeState();
    }
    ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(1, new ThreadFactory() {
      @Override
      public Thread newThread(Runnable r) {
        Thread t = new Thread(r, "marketlift-sdk");
        t.setDaemon(true);
        return t;
      }
    });
    pool.setRemoveOnCancelPolicy(true);
    pool.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    worker = pool;
    if (queue.size() > 0) {
      schedule(0);
    }
  }

  /**
   * Opens a client on its queue directory; events left there by an earlier run are sent.
   *
   * @param config the settings
   * @return the client
   * @throws MarketliftException on a bad setting, or when another open client uses the directory
   * @throws IOException when the queue directory cannot be read or written
   */
  public static Marketlift create(Config config) throws IOException {
    return new Marketlift(config);
  }

  /**
   * A mutable map of fields from alternating names and values.
   *
   * @param namesAndValues {@code "query", "mug", "results_count", 3}
   * @return the map, in order
   */
  public static Map<String, Object> fields(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new MarketliftException("fields", "namesAndValues", namesAndValues.length + " items",
          "names and values in pairs");
    }
    Map<String, Object> m = new LinkedHashMap<String, Object>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      m.put(String.valueOf(namesAndValues[i]), namesAndValues[i + 1]);
    }
    return m;
  }

  /**
   * Money as the schema wants it: a decimal string and a currency.
   *
   * @param amount such as {@code "24.90"}
   * @param currency such as {@code "EUR"}
   * @return {@code {amount, currency}}
   */
  public static Map<String, Object> money(String amount, String currency) {
    return fields("amount", amount, "currency", currency);
  }

  /**
   * Checks an event, appends it to the queue and returns its id. No network, safe on any
   * thread: once this returns, the event survives the app being killed.
   *
   * @param type an event type such as {@code search} (see {@link EventValidator#types})
   * @param fields the type's fields, and optionally common ones ({@code properties}, {@code
   *     ts}, {@code buyer_id} ...) overriding the client's; null values count as absent
   * @return the event's {@code event_id}
   * @throws MarketliftException on invalid input (nothing is queued)
   * @throws IllegalStateException when the client is closed or the queue file cannot be written
   */
  public String track(String type, Map<String, ?> fields) {
    String context = "track(" + MarketliftException.show(type) + ")";
    Map<String, Object> event = new LinkedHashMap<String, Object>();
    String eventId;
    synchronized (lock) {
      ensureOpen();
      eventId = UUID.randomUUID().toString();
      long now = System.currentTimeMillis();
      event.put("type", type);
      event.put("event_id", eventId);
      event.put("schema_version", EventValidator.SCHEMA_VERSION);
      event.put("ts", iso(now));
      event.put("platform", o.platform);
      event.put("anonymous_id", state.get("anonymous_id"));
      event.put("buyer_id", state.get("buyer_id"));
      event.put("session_id", session(now));
      event.put("app_version", o.appVersion);
      event.put("locale", o.locale);
      event.put("currency", o.currency);
      event.put("country", o.country);
    }
    if (fields != null) {
      for (Map.Entry<String, ?> e : fields.entrySet()) {
        String name = e.getKey();
        if ("type".equals(name) || "schema_version".equals(name)) {
          throw new MarketliftException(context, name, e.getValue(),
              "no such field (the SDK sets it)");
        }
        Object v = e.getValue();
        event.put(name, v instanceof Date ? iso(((Date) v).getTime()) : v);
      }
    }
    for (java.util.Iterator<Object> it = event.values().iterator(); it.hasNext(); ) {
      if (it.next() == null) {
        it.remove();
      }
    }
    EventValidator.validate(event);
    String json = o.json.write(event);
    int bytes = json.getBytes(UTF8).length;
    if (bytes > EventValidator.MAX_EVENT_BYTES) {
      throw new MarketliftException(context, "$", "<" + bytes + " bytes>",
          "at most " + EventValidator.MAX_EVENT_BYTES + " bytes");
    }
    int dropped;
    synchronized (lock) {
      ensureOpen();
      try {
        dropped = queue.append(json);
      } catch (IOException e) {
        throw new IllegalStateException("the event could not be queued: " + e.getMessage(), e);
      }
      if (queue.size() >= o.batchSize) {
        schedule(0);
      } else if (timer == null) {
        schedule(o.flushIntervalMs);
      }
    }
    if (dropped > 0) {
      report(null, dropped, "queue full (maxQueueBytes=" + o.maxQueueBytes + ")");
    }
    return eventId;
  }

  /**
   * Sets the ids stamped on later events (and used by {@link #decide} and {@link #assign}).
   * Kept in the queue directory across restarts. No network.
   *
   * @param anonymousId the device's id; null keeps the current one (made on first start)
   * @param buyerId the signed-in buyer's pseudonymous id; null signs out
   * @throws MarketliftException for an id that is empty or longer than 128 characters
   */
  public void identify(String anonymousId, String buyerId) {
    for (String[] pair : new String[][] {{"anonymousId", anonymousId}, {"buyerId", buyerId}}) {
      String v = pair[1];
      if (v != null && (v.isEmpty() || EventValidator.length(v) > 128)) {
        throw new MarketliftException("identify", pair[0], v,
            "null or a string of 1 to 128 characters");
      }
    }
    synchronized (lock) {
      ensureOpen();
      if (anonymousId != null) {
        state.put("anonymous_id", anonymousId);
      }
      if (buyerId == null) {
        state.remove("buyer_id");
      } else {
        state.put("buyer_id", buyerId);
      }
      writeStateQuietly();
    }
  }

  /**
   * The device's anonymous id (made on first start, kept in the queue directory).
   *
   * @return the id
   */
  public String anonymousId() {
    synchronized (lock) {
      return (String) state.get("anonymous_id");
    }
  }

  /**
   * The signed-in buyer set by {@link #identify}, or null.
   *
   * @return the id or null
   */
  public String buyerId() {
    synchronized (lock) {
      return (String) state.get("buyer_id");
    }
  }

  /**
   * Events in the queue not yet acknowledged by the collector.
   *
   * @return the count
   */
  public int queued() {
    return queue.size();
  }

  /**
   * Bytes of the queue's unsent records on the device.
   *
   * @return the bytes
   */
  public long queuedBytes() {
    return queue.bytes();
  }

  /**
   * The variant of {@code experiment} for this buyer (the buyer id, else the anonymous id), by
   * the same hashing as the server, or null outside its layer or in its holdout. The answer is
   * remembered per experiment key and unit in the queue directory, so {@link
   * #assign(String)} gives it offline and after restarts. No network.
   *
   * @param experiment the experiment
   * @return the variant's name, or null
   */
  public String assign(Experiment experiment) {
    if (experiment == null) {
      throw new MarketliftException("assign", "experiment", null, "an Experiment");
    }
    synchronized (lock) {
      ensureOpen();
      String unit = unit();
      String variant = experiment.variantOf(unit);
      Map<String, Object> cache = assignments();
      Object before = cache.get(experiment.key);
      Map<String, Object> entry = fields("unit", unit, "variant", variant);
      if (!entry.equals(before)) {
        cache.put(experiment.key, entry);
        writeStateQuietly();
      }
      return variant;
    }
  }

  /**
   * The variant remembered for this device or buyer by an earlier {@link #assign(Experiment)}
   * or {@link #refreshAssignments}, or null when there is none for the current anonymous id or
   * buyer id. No network: this is how a buyer keeps the arm offline.
   *
   * @param experimentKey the experiment key
   * @return the variant's name, or null
   */
  public String assign(String experimentKey) {
    synchronized (lock) {
      Object entry = assignments().get(experimentKey);
      if (!(entry instanceof Map)) {
        return null;
      }
      Object unit = ((Map<?, ?>) entry).get("unit");
      boolean mine = unit != null
          && (unit.equals(state.get("buyer_id")) || unit.equals(state.get("anonymous_id")));
      return mine ? (String) ((Map<?, ?>) entry).get("variant") : null;
    }
  }

  /**
   * Asks the server ({@code POST <endpoint>/v1/assign}) for this unit's variant of every active
   * experiment it qualifies for (the server applies targeting and schedules, and logs the
   * exposures), and remembers them for {@link #assign(String)}. Blocks on the network: call it
   * from a background thread, at start and when the buyer signs in.
   *
   * @return the assignments: {@code experiment_key, variant, unit} (the unit's field, {@code
   *     buyer_id} or {@code anonymous_id})
   * @throws DecideException on a network error, a timeout, a non-2xx answer or a malformed body
   */
  public List<Map<String, Object>> refreshAssignments() throws DecideException {
    refuseMainThread("refreshAssignments");
    Map<String, Object> request = new LinkedHashMap<String, Object>();
    synchronized (lock) {
      ensureOpen();
      request.put("platform", o.platform);
      request.put("buyer_id", state.get("buyer_id"));
      request.put("anonymous_id", state.get("anonymous_id"));
      request.put("session_id", session(System.currentTimeMillis()));
    }
    request.put("locale", o.locale);
    request.put("country", o.country);
    request.put("app_version", o.appVersion);
    for (java.util.Iterator<Object> it = request.values().iterator(); it.hasNext(); ) {
      if (it.next() == null) {
        it.remove();
      }
    }
    Object body = call("refreshAssignments", assignUrl, request);
    Object list = body instanceof Map ? ((Map<?, ?>) body).get("assignments") : null;
    if (!(list instanceof List)) {
      throw new DecideException("refreshAssignments", 200, "malformed answer: assignments == "
          + MarketliftException.show(list) + ", expected an array");
    }
    List<Map<String, Object>> out = new ArrayList<Map<String, Object>>();
    for (Object item : (List<?>) list) {
      Map<?, ?> a = item instanceof Map ? (Map<?, ?>) item : Collections.emptyMap();
      Object key = a.get("experiment_key");
      Object variant = a.get("variant");
      Object unit = a.get("unit");
      if (!(key instanceof String && variant instanceof String && unit instanceof String)) {
        throw new DecideException("refreshAssignments", 200, "malformed answer: assignment == "
            + MarketliftException.show(item) + ", expected {experiment_key, variant, unit}");
      }
      out.add(fields("experiment_key", key, "variant", variant, "unit", unit));
    }
    synchronized (lock) {
      Map<String, Object> cache = assignments();
      for (Map<String, Object> a : out) {
        // The server names the unit's field (buyer_id or anonymous_id); remember its value.
        Object unit = a.get("unit");
        Object id = "buyer_id".equals(unit) || "anonymous_id".equals(unit) ? request.get(unit)
            : unit;
        cache.put((String) a.get("experiment_key"), fields("unit", id, "variant",
            a.get("variant")));
      }
      writeStateQuietly();
    }
    return Collections.unmodifiableList(out);
  }

  /** POSTs JSON to the decision API; the decoded answer of a 2xx, else a DecideException. */
  private Object call(String context, String url, Map<String, Object> request)
      throws DecideException {
    Map<String, String> headers = new LinkedHashMap<String, String>();
    headers.put("Content-Type", "application/json");
    if (o.decideKey != null) {
      headers.put("Authorization", "Bearer " + o.decideKey);
    }
    Transport.Response r;
    try {
      r = o.transport.post(url, o.json.write(request).getBytes(UTF8), headers,
          o.decideTimeoutMs);
    } catch (IOException e) {
      throw new DecideException(context, 0, "network error: " + e);
    }
    Object body;
    try {
      body = r.body.isEmpty() ? null : o.json.read(r.body);
    } catch (IllegalArgumentException notJson) {
      body = null;
    }
    if (r.status < 200 || r.status >= 300) {
      Object reason = body instanceof Map ? ((Map<?, ?>) body).get("error") : null;
      String text = r.body.length() > 300 ? r.body.substring(0, 300) : r.body;
      throw new DecideException(context, r.status,
          reason instanceof String ? (String) reason : text);
    }
    return body;
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> assignments() {
    Object cache = state.get("assignments");
    if (!(cache instanceof Map)) {
      cache = new LinkedHashMap<String, Object>();
      state.put("assignments", cache);
    }
    return (Map<String, Object>) cache;
  }

  private String unit() {
    Object buyer = state.get("buyer_id");
    return buyer instanceof String ? (String) buyer : (String) state.get("anonymous_id");
  }

  /**
   * Asks the decision API ({@code POST <endpoint>/v1/decide}) what to show this buyer.
   * Blocks on the network: call it from a background thread (it refuses Android's main one).
   *
   * @param request at least {@code surface}; {@code buyer_id, anonymous_id, session_id,
   *     platform, locale, country} default to the client's; {@code context}, {@code
   *     candidates}, {@code limit} (1 to 100) as the API documents
   * @return the decision
   * @throws MarketliftException on invalid input (nothing is sent)
   * @throws DecideException on a network error, a timeout, a non-2xx answer or a malformed body
   */
  public Decision decide(Map<String, ?> request) throws DecideException {
    refuseMainThread("decide");
    if (request == null) {
      throw new MarketliftException("decide", "request", null, "a map with at least surface");
    }
    Map<String, Object> filled = new LinkedHashMap<String, Object>();
    synchronized (lock) {
      ensureOpen();
      long now = System.currentTimeMillis();
      filled.put("buyer_id", state.get("buyer_id"));
      filled.put("anonymous_id", state.get("anonymous_id"));
      filled.put("session_id", session(now));
    }
    filled.put("platform", o.platform);
    filled.put("locale", o.locale);
    filled.put("country", o.country);
    filled.putAll(request);
    for (java.util.Iterator<Object> it = filled.values().iterator(); it.hasNext(); ) {
      if (it.next() == null) {
        it.remove();
      }
    }
    DecideRequests.validate(filled);
    Object body = call("decide", decideUrl, filled);
    return Decision.parse(body);
  }

  /**
   * Sends the queue now and waits until it is empty or a retry is scheduled (after a failure,
   * or while a {@code Retry-After} runs). Blocks on the network: not on the main thread.
   *
   * @return true when the queue is empty
   * @throws IllegalStateException on Android's main thread or after {@link #close}
   */
  public boolean flush() {
    refuseMainThread("flush");
    Future<Boolean> f;
    synchronized (lock) {
      ensureOpen();
      f = worker.submit(new java.util.concurrent.Callable<Boolean>() {
        @Override
        public Boolean call() {
          return drain();
        }
      });
    }
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("flush failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * The app went to the background: start sending the queue now, without waiting. Call it
   * from {@code onStop} (or a {@code ProcessLifecycleOwner} observer); safe on the main thread.
   * What does not leave before the process is frozen stays in the queue for the next start.
   */
  public void onBackground() {
    synchronized (lock) {
      if (!closed) {
        schedule(0);
      }
    }
  }

  /**
   * Stops the background thread (after the request in flight, if any, up to its timeout) and
   * closes the queue. Unsent events stay on the device and leave on the next start; call
   * {@link #flush} first (off the main thread) to send them now. Later calls throw.
   */
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (timer != null) {
        timer.cancel(false);
        timer = null;
      }
    }
    worker.shutdown();
    try {
      worker.awaitTermination(o.requestTimeoutMs + 1000L, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      queue.close();
    } catch (IOException ignored) {
      // The records are on disk already; nothing is lost.
    }
  }

  // -- sending (only on the worker thread) --------------------------------------------------

  private void schedule(long delayMs) {
    if (closed) {
      return;
    }
    long wait = Math.max(delayMs, backoffUntilMs - System.currentTimeMillis());
    if (timer != null) {
      if (timer.getDelay(TimeUnit.MILLISECONDS) <= wait) {
        return;
      }
      timer.cancel(false);
    }
    timer = worker.schedule(new Runnable() {
      @Override
      public void run() {
        synchronized (lock) {
          timer = null;
        }
        drain();
      }
    }, Math.max(0, wait), TimeUnit.MILLISECONDS);
  }

  /** Sends batches until the queue is empty or a retry is due later. */
  private boolean drain() {
    while (true) {
      synchronized (lock) {
        if (closed) {
          return false;
        }
        long wait = backoffUntilMs - System.currentTimeMillis();
        if (wait > 0) {
          schedule(wait);
          return false;
        }
      }
      FileQueue.Batch b;
      try {
        b = queue.peek(limit, MAX_BATCH_BYTES);
      } catch (IOException | IllegalStateException e) {
        return false;
      }
      if (b.consumed() == 0) {
        return true;
      }
      Outcome out = b.events.isEmpty() ? Outcome.DONE : post(b);
      if (out == Outcome.SPLIT) {
        limit = Math.max(1, b.events.size() / 2);
        try {
          queue.release();
        } catch (IOException | IllegalStateException e) {
          return false;
        }
        continue;
      }
      if (out == Outcome.RETRY) {
        try {
          queue.hold(b);
        } catch (IOException | IllegalStateException e) {
          return false;
        }
        synchronized (lock) {
          attempt++;
          long delay =
              Backoff.delayMs(attempt, o.retryBaseMs, o.retryMaxMs, retryAfterMs, random);
          backoffUntilMs = System.currentTimeMillis() + delay;
          schedule(delay);
        }
        return false;
      }
      synchronized (lock) {
        attempt = 0;
      }
      try {
        queue.ack(b);
      } catch (IOException | IllegalStateException e) {
        return false;
      }
      if (b.dropped > 0) {
        report(null, b.dropped, "older than maxAgeMs=" + o.maxAgeMs + " or unreadable");
      }
    }
  }

  private enum Outcome {
    DONE, RETRY, SPLIT
  }

  private long retryAfterMs = -1;

  private Outcome post(FileQueue.Batch b) {
    StringBuilder body = new StringBuilder((int) b.bytes + b.events.size() + 2);
    body.append('[');
    for (int i = 0; i < b.events.size(); i++) {
      body.append(i == 0 ? "" : ",").append(b.events.get(i));
    }
    body.append(']');
    byte[] bytes = body.toString().getBytes(UTF8);
    Map<String, String> headers = new LinkedHashMap<String, String>();
    headers.put("Content-Type", "application/json");
    if (o.gzip && bytes.length > GZIP_ABOVE_BYTES) {
      bytes = gzip(bytes);
      headers.put("Content-Encoding", "gzip");
    }
    if (o.writeKey != null) {
      headers.put("Authorization", "Bearer " + o.writeKey);
    }
    Transport.Response r;
    retryAfterMs = -1;
    try {
      r = o.transport.post(eventsUrl, bytes, headers, o.requestTimeoutMs);
    } catch (IOException | RuntimeException e) {
      return Outcome.RETRY;
    }
    int s = r.status;
    if (s == 200 || s == 422) {
      Object report = null;
      try {
        report = r.body.isEmpty() ? null : o.json.read(r.body);
      } catch (IllegalArgumentException notJson) {
        report = null;
      }
      Object rejected = report instanceof Map ? ((Map<?, ?>) report).get("rejected") : null;
      List<Map<String, Object>> list = new ArrayList<Map<String, Object>>();
      if (rejected instanceof List) {
        for (Object x : (List<?>) rejected) {
          if (x instanceof Map) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) x;
            list.add(m);
          }
        }
      }
      if (!list.isEmpty()) {
        report(Collections.unmodifiableList(list), 0, null);
      } else if (s == 422) {
        report(null, b.events.size(), "HTTP 422: " + r.body);
      }
      return Outcome.DONE;
    }
    if (s >= 200 && s < 300) {
      return Outcome.DONE;
    }
    if (s == 413) {
      if (b.events.size() > 1) {
        return Outcome.SPLIT;
      }
      report(null, 1, "HTTP 413: event too large");
      return Outcome.DONE;
    }
    if (s == 408 || s == 429 || s >= 500) {
      retryAfterMs = Backoff.parseRetryAfter(r.retryAfter, System.currentTimeMillis());
      return Outcome.RETRY;
    }
    report(null, b.events.size(), "HTTP " + s + ": "
        + (r.body.length() > 200 ? r.body.substring(0, 200) : r.body));
    return Outcome.DONE;
  }

  private void report(List<Map<String, Object>> rejected, int dropped, String reason) {
    try {
      if (rejected != null) {
        o.listener.onRejected(rejected);
      } else {
        o.listener.onDropped(dropped, reason);
      }
    } catch (RuntimeException e) {
      // A throwing listener must not stop delivery.
    }
  }

  private static byte[] gzip(byte[] bytes) {
    try {
      ByteArrayOutputStream buf = new ByteArrayOutputStream(bytes.length / 4 + 64);
      GZIPOutputStream z = new GZIPOutputStream(buf) {
        {
          def.setLevel(java.util.zip.Deflater.BEST_SPEED); // battery first: 1/8 of the size
        }
      };
      z.write(bytes);
      z.close();
      return buf.toByteArray();
    } catch (IOException impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  // -- state ------------------------------------------------------------------------------

  private String session(long now) {
    if (sessionId == null || now - sessionLastMs > o.sessionTimeoutMs) {
      sessionId = UUID.randomUUID().toString();
    }
    sessionLastMs = now;
    return sessionId;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("this Marketlift client is closed");
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> readState() {
    if (!stateFile.isFile()) {
      return new LinkedHashMap<String, Object>();
    }
    try {
      FileInputStream in = new FileInputStream(stateFile);
      try {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[4096];
        int n;
        while ((n = in.read(chunk)) > 0) {
          buf.write(chunk, 0, n);
        }
        Object v = o.json.read(new String(buf.toByteArray(), UTF8));
        if (v instanceof Map) {
          return new LinkedHashMap<String, Object>((Map<String, Object>) v);
        }
      } finally {
        in.close();
      }
    } catch (IOException | IllegalArgumentException unreadable) {
      // Start afresh: a new anonymous id is better than no client.
    }
    return new LinkedHashMap<String, Object>();
  }

  private void writeState() throws IOException {
    File tmp = new File(o.queueDir, "state.json.tmp");
    FileOutputStream out = new FileOutputStream(tmp);
    try {
      out.write(o.json.write(state).getBytes(UTF8));
      if (o.fsync) {
        out.getFD().sync();
      }
    } finally {
      out.close();
    }
    if (!tmp.renameTo(stateFile)) {
      throw new IOException("cannot replace " + stateFile);
    }
  }

  private void writeStateQuietly() {
    try {
      writeState();
    } catch (IOException e) {
      // Kept in memory for this run; the next change tries again.
    }
  }

  /**
   * RFC 3339 UTC with milliseconds, such as {@code 2026-12-04T19:00:00.123Z}.
   *
   * @param ms milliseconds since the epoch
   * @return the text
   */
  static String iso(long ms) {
    long days = floorDiv(ms, 86_400_000L);
    long rest = ms - days * 86_400_000L;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    long z = days + 719_468;
    long era = floorDiv(z, 146_097);
    long doe = z - era * 146_097;
    long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long day = doy - (153 * mp + 2) / 5 + 1;
    long month = mp < 10 ? mp + 3 : mp - 9;
    long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    char[] c = new char[24];
    put(c, 0, year, 4);
    c[4] = '-';
    put(c, 5, month, 2);
    c[7] = '-';
    put(c, 8, day, 2);
    c[10] = 'T';
    put(c, 11, rest / 3_600_000, 2);
    c[13] = ':';
    put(c, 14, rest / 60_000 % 60, 2);
    c[16] = ':';
    put(c, 17, rest / 1000 % 60, 2);
    c[19] = '.';
    put(c, 20, rest % 1000, 3);
    c[23] = 'Z';
    return new String(c);
  }

  /** {@code Math.floorDiv}, which Android has only from API 24. */
  private static long floorDiv(long x, long y) {
    long q = x / y;
    return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
  }

  private static void put(char[] c, int at, long value, int digits) {
    long v = value;
    for (int i = at + digits - 1; i >= at; i--) {
      c[i] = (char) ('0' + v % 10);
      v /= 10;
    }
  }

  private static volatile Boolean android;

  private static void refuseMainThread(String what) {
    if (Boolean.FALSE.equals(android)) {
      return;
    }
    try {
      Class<?> looper = Class.forName("android.os.Looper");
      android = Boolean.TRUE;
      Object main = looper.getMethod("getMainLooper").invoke(null);
      Object mine = looper.getMethod("myLooper").invoke(null);
      if (main != null && main == mine) {
        throw new IllegalStateException(what + "() blocks on the network: call it from a"
            + " background thread (an Executor, a coroutine on Dispatchers.IO), not the main"
            + " thread");
      }
    } catch (ClassNotFoundException notAndroid) {
      android = Boolean.FALSE;
    } catch (ReflectiveOperationException unexpected) {
      // No Looper API after all: nothing to refuse.
    }
  }
}
