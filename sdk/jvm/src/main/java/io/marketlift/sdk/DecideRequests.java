package io.marketlift.sdk;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** Checks a {@code /v1/decide} request before it is sent, as the JS SDK does. */
final class DecideRequests {
  static final List<String> SURFACES = Arrays.asList("home", "search", "listing", "cart", "push");
  private static final List<String> FIELDS = Arrays.asList("buyer_id", "anonymous_id",
      "session_id", "surface", "platform", "locale", "country", "context", "candidates", "limit");
  private static final List<String> CONTEXT = Arrays.asList("listing_id", "query", "cart",
      "recent", "channels");
  private static final List<String> CHANNELS = Arrays.asList("push", "email");
  private static final Pattern LOCALE = Pattern.compile("^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$");
  private static final Pattern COUNTRY = Pattern.compile("^[A-Z]{2}$");

  private DecideRequests() {}

  private static void fail(String field, Object value, String expected) {
    throw new MarketliftException("decide", field, value, expected);
  }

  static void validate(Map<String, ?> r) {
    for (Map.Entry<String, ?> e : r.entrySet()) {
      if (!FIELDS.contains(e.getKey())) {
        fail(e.getKey(), e.getValue(), "no such field (one of " + join(FIELDS) + ")");
      }
    }
    for (String name : new String[] {"buyer_id", "anonymous_id", "session_id"}) {
      optionalId(name, r.get(name));
    }
    if (r.get("buyer_id") == null && r.get("anonymous_id") == null) {
      fail("buyer_id", null, "a buyer_id or an anonymous_id (one of the two)");
    }
    if (!SURFACES.contains(r.get("surface"))) {
      fail("surface", r.containsKey("surface") ? r.get("surface") : MarketliftException.MISSING,
          "one of " + join(SURFACES));
    }
    if (!EventValidator.PLATFORMS.contains(r.get("platform"))) {
      fail("platform", r.get("platform"), "one of " + join(EventValidator.PLATFORMS));
    }
    Object locale = r.get("locale");
    if (!(locale instanceof String) || !LOCALE.matcher((String) locale).matches()) {
      fail("locale", locale, "a BCP 47 tag such as \"de-DE\"");
    }
    Object country = r.get("country");
    if (country != null && !(country instanceof String
        && COUNTRY.matcher((String) country).matches())) {
      fail("country", country, "an ISO 3166-1 alpha-2 code such as \"DE\"");
    }
    Object context = r.get("context");
    if (context != null) {
      if (!(context instanceof Map)) {
        fail("context", context, "an object {listing_id, query, cart, recent, channels}");
      }
      Map<?, ?> c = (Map<?, ?>) context;
      for (Map.Entry<?, ?> e : c.entrySet()) {
        if (!CONTEXT.contains(e.getKey())) {
          fail("context." + e.getKey(), e.getValue(), "no such field (one of " + join(CONTEXT)
              + ")");
        }
      }
      optionalId("context.listing_id", c.get("listing_id"));
      Object q = c.get("query");
      if (q != null && !(q instanceof String && ((String) q).length() <= 512)) {
        fail("context.query", q, "null or a string of at most 512 characters");
      }
      ids("context.cart", c.get("cart"), 200);
      ids("context.recent", c.get("recent"), 50);
      Object ch = c.get("channels");
      if (ch != null) {
        boolean ok = ch instanceof List && ((List<?>) ch).size() <= CHANNELS.size();
        if (ok) {
          for (Object o : (List<?>) ch) {
            ok &= CHANNELS.contains(o);
          }
        }
        if (!ok) {
          fail("context.channels", ch, "null or an array of " + join(CHANNELS));
        }
      }
    }
    ids("candidates", r.get("candidates"), 1000);
    Object limit = r.get("limit");
    if (limit != null && !(EventValidator.isInteger(limit) && ((Number) limit).longValue() >= 1
        && ((Number) limit).longValue() <= 100)) {
      fail("limit", limit, "an integer from 1 to 100");
    }
  }

  private static void optionalId(String name, Object v) {
    if (v != null && !(v instanceof String && !((String) v).isEmpty()
        && ((String) v).length() <= 128)) {
      fail(name, v, "null or a string of 1 to 128 characters");
    }
  }

  private static void ids(String name, Object v, int max) {
    if (v == null) {
      return;
    }
    if (!(v instanceof List) || ((List<?>) v).size() > max) {
      fail(name, v, "an array of at most " + max + " listing ids");
    }
    List<?> items = (List<?>) v;
    for (int i = 0; i < items.size(); i++) {
      Object id = items.get(i);
      if (!(id instanceof String && !((String) id).isEmpty() && ((String) id).length() <= 128)) {
        fail(name + "[" + i + "]", id, "a string of 1 to 128 characters");
      }
    }
  }

  private static String join(List<String> names) {
    StringBuilder out = new StringBuilder();
    for (String n : names) {
      out.append(out.length() == 0 ? "" : ", ").append(n);
    }
    return out.toString();
  }
}
