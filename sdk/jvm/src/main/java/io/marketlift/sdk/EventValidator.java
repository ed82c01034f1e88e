package io.marketlift.sdk;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks one event against schema v1 with the collector's rules and messages
 * ({@code marketlift.events.schema} and {@code marketlift.events.validate}), so that an event
 * the collector would reject never enters the queue.
 *
 * <p>The field, the value and the expected text of each {@link MarketliftException} are those of
 * the collector's {@code FieldError} for the same event (checked by {@code tests/sdk/test_jvm.py}).
 */
public final class EventValidator {
  /** Version of the event schema this SDK writes. */
  public static final int SCHEMA_VERSION = 1;
  /** Largest event as JSON, in bytes (the collector's {@code Limits.max_event_bytes}). */
  public static final int MAX_EVENT_BYTES = 32 * 1024;

  private static final Pattern SLUG = Pattern.compile("^[a-z][a-z0-9_]{0,63}$");
  private static final Pattern AMOUNT = Pattern.compile("^[0-9]{1,13}(\\.[0-9]{1,6})?$");
  private static final Pattern CURRENCY = Pattern.compile("^[A-Z]{3}$");
  private static final Pattern COUNTRY = Pattern.compile("^[A-Z]{2}$");
  private static final Pattern LOCALE = Pattern.compile("^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$");
  private static final Pattern RFC3339 =
      Pattern.compile(
          "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?"
              + "([Zz]|[+-][0-9]{2}:[0-9]{2})$");

  static final String SLUG_TEXT = "a lower-case name of letters, digits and '_' (at most 64)";
  static final String AMOUNT_TEXT = "a decimal string >= 0 such as '24.90' (never a float)";
  static final String CURRENCY_TEXT = "an ISO 4217 currency code such as 'EUR'";
  static final String COUNTRY_TEXT = "an ISO 3166-1 alpha-2 country code such as 'DE'";
  static final String LOCALE_TEXT = "a BCP 47 language tag such as 'de-DE'";
  static final String REQUIRED_TEXT = "a value (the field is required)";
  static final String TS_TEXT = "an RFC 3339 time with a zone, such as '2026-11-26T10:00:00Z'";
  static final List<String> PLATFORMS = Arrays.asList("web", "ios", "android");
  static final List<String> CHANNELS = Arrays.asList("push", "email", "in_app", "onsite");

  /** The kinds of value a field may hold. */
  enum Kind {
    ID, SLUG, SHORT_TEXT, LONG_TEXT, QUERY, APP_VERSION, LOCALE, CURRENCY, COUNTRY, PLATFORM,
    CHANNEL, TS, SCHEMA_VERSION, COUNT, QUANTITY, POSITION, ITEM_COUNT, PROPENSITY, MONEY,
    LINE_ITEMS, IMPRESSION_ITEMS, ID_LIST, MODEL_VERSIONS, PROPERTIES
  }

  /** One field: its kind and whether it is required. */
  static final class Field {
    final Kind kind;
    final boolean required;

    Field(Kind kind, boolean required) {
      this.kind = kind;
      this.required = required;
    }
  }

  private static final Map<String, Field> COMMON = new LinkedHashMap<String, Field>();
  private static final Map<String, Map<String, Field>> TYPES =
      new LinkedHashMap<String, Map<String, Field>>();

  static {
    COMMON.put("event_id", new Field(Kind.ID, true));
    COMMON.put("schema_version", new Field(Kind.SCHEMA_VERSION, true));
    COMMON.put("ts", new Field(Kind.TS, true));
    COMMON.put("platform", new Field(Kind.PLATFORM, true));
    COMMON.put("buyer_id", new Field(Kind.ID, false));
    COMMON.put("anonymous_id", new Field(Kind.ID, false));
    COMMON.put("session_id", new Field(Kind.ID, false));
    COMMON.put("app_version", new Field(Kind.APP_VERSION, false));
    COMMON.put("locale", new Field(Kind.LOCALE, false));
    COMMON.put("currency", new Field(Kind.CURRENCY, false));
    COMMON.put("country", new Field(Kind.COUNTRY, false));
    COMMON.put("properties", new Field(Kind.PROPERTIES, false));
    type("page_view", "url", Kind.LONG_TEXT, false, "referrer", Kind.LONG_TEXT, false,
        "surface", Kind.SLUG, false);
    type("search", "query", Kind.QUERY, true, "results_count", Kind.COUNT, false,
        "category", Kind.SHORT_TEXT, false);
    type("listing_view", "listing_id", Kind.ID, true, "shop_id", Kind.ID, false,
        "price", Kind.MONEY, false, "surface", Kind.SLUG, false, "position", Kind.POSITION, false,
        "decision_id", Kind.ID, false);
    type("favorite", "listing_id", Kind.ID, true);
    type("add_to_cart", "listing_id", Kind.ID, true, "quantity", Kind.QUANTITY, false,
        "price", Kind.MONEY, false);
    type("remove_from_cart", "listing_id", Kind.ID, true, "quantity", Kind.QUANTITY, false);
    type("checkout_start", "cart_value", Kind.MONEY, false, "item_count", Kind.ITEM_COUNT, false);
    type("purchase", "order_id", Kind.ID, true, "line_items", Kind.LINE_ITEMS, true,
        "revenue", Kind.MONEY, true);
    type("impression", "surface", Kind.SLUG, true, "listings", Kind.IMPRESSION_ITEMS, true,
        "decision_id", Kind.ID, false);
    for (String t : new String[] {"engagement_shown", "engagement_clicked", "engagement_dismissed"}) {
      type(t, "action", Kind.SLUG, true, "channel", Kind.CHANNEL, true,
          "decision_id", Kind.ID, true, "propensity", Kind.PROPENSITY, t.endsWith("shown"));
    }
    type("decision", "decision_id", Kind.ID, true, "surface", Kind.SLUG, true,
        "propensity", Kind.PROPENSITY, true, "action", Kind.SLUG, false,
        "channel", Kind.CHANNEL, false, "policy", Kind.SHORT_TEXT, false,
        "listing_ids", Kind.ID_LIST, false, "model_versions", Kind.MODEL_VERSIONS, false);
    type("exposure", "experiment_key", Kind.SLUG, true, "variant", Kind.SLUG, true,
        "decision_id", Kind.ID, false);
  }

  private static void type(String name, Object... spec) {
    Map<String, Field> fields = new LinkedHashMap<String, Field>();
    for (int i = 0; i < spec.length; i += 3) {
      fields.put((String) spec[i], new Field((Kind) spec[i + 1], (Boolean) spec[i + 2]));
    }
    TYPES.put(name, Collections.unmodifiableMap(fields));
  }

  private EventValidator() {}

  /**
   * The event types of schema v1, in the collector's order.
   *
   * @return the type names
   */
  public static List<String> types() {
    return Collections.unmodifiableList(new java.util.ArrayList<String>(TYPES.keySet()));
  }

  /**
   * Whether {@code name} is a field of events of {@code type} (its own or a common one).
   *
   * @param type an event type
   * @param name a field name
   * @return true when the schema has the field
   */
  static boolean hasField(String type, String name) {
    Map<String, Field> own = TYPES.get(type);
    return COMMON.containsKey(name) || (own != null && own.containsKey(name));
  }

  /**
   * Checks a complete event (common fields filled in; {@code null} values count as absent).
   *
   * @param event the event, with its {@code type}
   * @throws MarketliftException naming the first bad field
   */
  public static void validate(Map<String, ?> event) {
    Object type = event.get("type");
    String context = "track(" + MarketliftException.show(type) + ")";
    Map<String, Field> own = type instanceof String ? TYPES.get(type) : null;
    if (own == null) {
      throw new MarketliftException(context, "type", type == null ? MarketliftException.MISSING
          : type, typesText());
    }
    Check c = new Check(context, (String) type);
    for (Map.Entry<String, ?> e : event.entrySet()) {
      String name = e.getKey();
      if ("type".equals(name) || e.getValue() == null) {
        continue;
      }
      Field f = own.containsKey(name) ? own.get(name) : COMMON.get(name);
      if (f == null) {
        c.fail(name, e.getValue(), c.unknown());
      }
      c.value(name, f.kind, f.required, e.getValue());
    }
    for (Map<String, Field> fields : Arrays.asList(COMMON, own)) {
      for (Map.Entry<String, Field> e : fields.entrySet()) {
        if (e.getValue().required && event.get(e.getKey()) == null) {
          c.fail(e.getKey(), MarketliftException.MISSING, REQUIRED_TEXT);
        }
      }
    }
    if (event.get("buyer_id") == null && event.get("anonymous_id") == null) {
      c.fail("buyer_id", null, "buyer_id or anonymous_id (at least one of them)");
    }
  }

  private static String typesText() {
    StringBuilder out = new StringBuilder("one of ");
    for (String t : TYPES.keySet()) {
      out.append(out.length() > 7 ? ", '" : "'").append(t).append('\'');
    }
    return out.toString();
  }

  static String oneOf(List<String> names) {
    StringBuilder out = new StringBuilder("one of ");
    for (String n : names) {
      out.append(out.length() > 7 ? ", '" : "'").append(n).append('\'');
    }
    return out.toString();
  }

  /** The checks of one event, failing with its context. */
  private static final class Check {
    private final String context;
    private final String type;

    Check(String context, String type) {
      this.context = context;
      this.type = type;
    }

    String unknown() {
      return "no such field on '" + type + "' in schema v1";
    }

    void fail(String field, Object value, String expected) {
      throw new MarketliftException(context, field, value, expected);
    }

    static String typed(String base, boolean required) {
      return required ? base : base + " | null";
    }

    void value(String path, Kind kind, boolean required, Object v) {
      switch (kind) {
        case ID:
          text(path, v, required, 1, 128, null, null);
          break;
        case SLUG:
          text(path, v, required, 0, Integer.MAX_VALUE, SLUG, SLUG_TEXT);
          break;
        case SHORT_TEXT:
          text(path, v, required, 0, 256, null, null);
          break;
        case LONG_TEXT:
          text(path, v, required, 0, 2048, null, null);
          break;
        case QUERY:
          text(path, v, required, 1, 512, null, null);
          break;
        case APP_VERSION:
          text(path, v, required, 0, 64, null, null);
          break;
        case LOCALE:
          text(path, v, required, 0, 35, LOCALE, LOCALE_TEXT);
          break;
        case CURRENCY:
          text(path, v, required, 0, Integer.MAX_VALUE, CURRENCY, CURRENCY_TEXT);
          break;
        case COUNTRY:
          text(path, v, required, 0, Integer.MAX_VALUE, COUNTRY, COUNTRY_TEXT);
          break;
        case PLATFORM:
          if (!PLATFORMS.contains(v)) {
            fail(path, v, oneOf(PLATFORMS));
          }
          break;
        case CHANNEL:
          if (!CHANNELS.contains(v)) {
            fail(path, v, oneOf(CHANNELS));
          }
          break;
        case SCHEMA_VERSION:
          if (!(isInteger(v) && ((Number) v).longValue() == SCHEMA_VERSION)) {
            fail(path, v, "1");
          }
          break;
        case TS:
          if (!(v instanceof String)) {
            fail(path, v, "datetime");
          }
          if (!RFC3339.matcher((String) v).matches()) {
            fail(path, v, TS_TEXT);
          }
          break;
        case COUNT:
          integer(path, v, required, 0, Long.MAX_VALUE);
          break;
        case QUANTITY:
          integer(path, v, required, 1, 10000);
          break;
        case POSITION:
        case ITEM_COUNT:
          integer(path, v, required, 0, 10000);
          break;
        case PROPENSITY:
          if (!(v instanceof Number) || !isFinite((Number) v)) {
            fail(path, v, typed("float", required));
          }
          double p = ((Number) v).doubleValue();
          if (!(p > 0.0)) {
            fail(path, v, "float > 0.0");
          }
          if (p > 1.0) {
            fail(path, v, "float <= 1.0");
          }
          break;
        case MONEY:
          money(path, v, required);
          break;
        case LINE_ITEMS:
          List<Map<?, ?>> lines = objects(path, v, required, 200);
          for (int i = 0; i < lines.size(); i++) {
            fields(path + "[" + i + "]", lines.get(i), "listing_id", Kind.ID,
                "quantity", Kind.QUANTITY, "unit_price", Kind.MONEY);
          }
          break;
        case IMPRESSION_ITEMS:
          List<Map<?, ?>> shown = objects(path, v, required, 500);
          for (int i = 0; i < shown.size(); i++) {
            fields(path + "[" + i + "]", shown.get(i), "listing_id", Kind.ID,
                "position", Kind.POSITION);
          }
          break;
        case ID_LIST:
          List<?> ids = list(path, v, required, 0, 500);
          for (int i = 0; i < ids.size(); i++) {
            text(path + "[" + i + "]", ids.get(i), true, 1, 128, null, null);
          }
          break;
        case MODEL_VERSIONS:
          Map<?, ?> versions = map(path, v, required, 20);
          for (Map.Entry<?, ?> e : versions.entrySet()) {
            Object key = e.getKey();
            if (!(key instanceof String) || !SLUG.matcher((String) key).matches()) {
              fail(path, key, SLUG_TEXT);
            }
            if (!(e.getValue() instanceof String)) {
              fail(path, v, "str");
            }
            if (length((String) e.getValue()) > 256) {
              fail(path, v, "str of length <= 256");
            }
          }
          break;
        case PROPERTIES:
          properties(path, v, required);
          break;
        default:
          throw new AssertionError(kind);
      }
    }

    private List<Map<?, ?>> objects(String path, Object v, boolean required, int max) {
      List<?> items = list(path, v, required, 1, max);
      java.util.ArrayList<Map<?, ?>> out = new java.util.ArrayList<Map<?, ?>>();
      for (int i = 0; i < items.size(); i++) {
        if (!(items.get(i) instanceof Map)) {
          fail(path + "[" + i + "]", items.get(i), "object");
        }
        out.add((Map<?, ?>) items.get(i));
      }
      return out;
    }

    private List<?> list(String path, Object v, boolean required, int min, int max) {
      if (!(v instanceof List)) {
        fail(path, v, typed("array", required));
      }
      List<?> items = (List<?>) v;
      if (items.size() < min) {
        fail(path, v, "array of length >= " + min);
      }
      if (items.size() > max) {
        fail(path, "<" + items.size() + " items>", "array of length <= " + max);
      }
      return items;
    }

    private Map<?, ?> map(String path, Object v, boolean required, int max) {
      if (!(v instanceof Map)) {
        fail(path, v, typed("object", required));
      }
      Map<?, ?> m = (Map<?, ?>) v;
      if (m.size() > max) {
        fail(path, "<" + m.size() + " keys>", "object of length <= " + max);
      }
      return m;
    }

    /** Checks a nested object whose fields are all required, given as name, kind pairs. */
    private void fields(String path, Map<?, ?> item, Object... spec) {
      Map<String, Kind> known = new LinkedHashMap<String, Kind>();
      for (int i = 0; i < spec.length; i += 2) {
        known.put((String) spec[i], (Kind) spec[i + 1]);
      }
      for (Map.Entry<?, ?> e : item.entrySet()) {
        Kind kind = known.get(e.getKey());
        String p = path + "." + e.getKey();
        if (kind == null) {
          fail(p, e.getValue(), unknown());
        }
        if (e.getValue() != null) {
          value(p, kind, true, e.getValue());
        }
      }
      for (String name : known.keySet()) {
        if (item.get(name) == null) {
          fail(path + "." + name, MarketliftException.MISSING, REQUIRED_TEXT);
        }
      }
    }

    private void money(String path, Object v, boolean required) {
      if (!(v instanceof Map)) {
        fail(path, v, typed("object", required));
      }
      Map<?, ?> m = (Map<?, ?>) v;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String p = path + "." + e.getKey();
        if ("amount".equals(e.getKey())) {
          Object a = e.getValue();
          if (!(a instanceof String) || !AMOUNT.matcher((String) a).matches()) {
            fail(p, a, AMOUNT_TEXT);
          }
        } else if ("currency".equals(e.getKey())) {
          text(p, e.getValue(), true, 0, Integer.MAX_VALUE, CURRENCY, CURRENCY_TEXT);
        } else {
          fail(p, e.getValue(), unknown());
        }
      }
      for (String name : new String[] {"amount", "currency"}) {
        if (m.get(name) == null) {
          fail(path + "." + name, MarketliftException.MISSING, REQUIRED_TEXT);
        }
      }
    }

    private void properties(String path, Object v, boolean required) {
      Map<?, ?> m = map(path, v, required, 50);
      for (Map.Entry<?, ?> e : m.entrySet()) {
        Object key = e.getKey();
        int n = key instanceof String ? length((String) key) : -1;
        if (n < 1) {
          fail(path, key, "str of length >= 1");
        }
        if (n > 64) {
          fail(path, key, "str of length <= 64");
        }
        Object x = e.getValue();
        if (x instanceof String) {
          if (length((String) x) > 1024) {
            fail(path, v, "str of length <= 1024");
          }
        } else if (!(x == null || x instanceof Boolean || (x instanceof Number
            && isFinite((Number) x)))) {
          fail(path, v, "bool | int | float | str | null");
        }
      }
    }

    private void text(String path, Object v, boolean required, int min, int max, Pattern pattern,
        String patternText) {
      if (!(v instanceof String)) {
        fail(path, v, typed("str", required));
      }
      String s = (String) v;
      int n = length(s);
      if (n < min) {
        fail(path, v, "str of length >= " + min);
      }
      if (n > max) {
        fail(path, v, "str of length <= " + max);
      }
      if (pattern != null && !matches(pattern, s)) {
        fail(path, v, patternText);
      }
    }

    private void integer(String path, Object v, boolean required, long min, long max) {
      if (!isInteger(v)) {
        fail(path, v, typed("int", required));
      }
      long n = ((Number) v).longValue();
      if (n < min) {
        fail(path, v, "int >= " + min);
      }
      if (n > max) {
        fail(path, v, "int <= " + max);
      }
    }
  }

  /** The last string each pattern accepted: the client's locale, currency ... come every time. */
  private static final Map<Pattern, String[]> LAST_MATCH =
      new java.util.IdentityHashMap<Pattern, String[]>();

  static {
    for (Pattern p : new Pattern[] {SLUG, CURRENCY, COUNTRY, LOCALE}) {
      LAST_MATCH.put(p, new String[1]);
    }
  }

  private static boolean matches(Pattern pattern, String s) {
    String[] last = LAST_MATCH.get(pattern);
    if (last != null && s.equals(last[0])) {
      return true;
    }
    boolean ok = pattern.matcher(s).matches();
    if (ok && last != null) {
      last[0] = s; // a benign race: any string stored here did match
    }
    return ok;
  }

  static int length(String s) {
    return s.codePointCount(0, s.length());
  }

  static boolean isInteger(Object v) {
    return v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
        || (v instanceof BigInteger && ((BigInteger) v).bitLength() < 64);
  }

  static boolean isFinite(Number n) {
    double d = n.doubleValue();
    return !Double.isNaN(d) && !Double.isInfinite(d);
  }
}
