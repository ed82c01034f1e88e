package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules; that the messages equal the collector's is checked by tests/sdk/test_jvm.py. */
class EventValidatorTest {
  private static Map<String, Object> event(Object... fields) {
    Map<String, Object> e = Marketlift.fields("event_id", "e1", "schema_version", 1,
        "ts", "2026-12-04T19:00:00.000Z", "platform", "android", "anonymous_id", "a1");
    e.putAll(Marketlift.fields(fields));
    return e;
  }

  private static MarketliftException bad(Object... fields) {
    return assertThrows(MarketliftException.class, () -> EventValidator.validate(event(fields)));
  }

  @Test
  void acceptsEveryTypeWithItsRequiredFields() {
    Map<String, Object> eur = Marketlift.money("24.90", "EUR");
    EventValidator.validate(event("type", "page_view"));
    EventValidator.validate(event("type", "search", "query", "mug", "results_count", 3));
    EventValidator.validate(event("type", "purchase", "order_id", "o1", "revenue", eur,
        "line_items", Arrays.asList(Marketlift.fields("listing_id", "L1", "quantity", 2,
            "unit_price", eur))));
    EventValidator.validate(event("type", "engagement_shown", "action", "cart_reminder",
        "channel", "push", "decision_id", "d1", "propensity", 0.25));
    EventValidator.validate(event("type", "impression", "surface", "home", "listings",
        Arrays.asList(Marketlift.fields("listing_id", "L1", "position", 0))));
    EventValidator.validate(event("type", "search", "query", "mug", "properties",
        Marketlift.fields("ab", true, "n", 1.5, "s", "x", "none", null)));
  }

  @Test
  void namesTheFieldTheValueAndWhatWasExpected() {
    MarketliftException e = bad("type", "search", "query", "");
    assertEquals("track(\"search\"): query == \"\", expected str of length >= 1.", e.getMessage());
    e = bad("type", "search");
    assertEquals("query", e.field);
    assertEquals("a value (the field is required)", e.expected);
    e = bad("type", "add_to_cart", "listing_id", "L1", "price",
        Marketlift.fields("amount", 24.9, "currency", "EUR"));
    assertEquals("price.amount", e.field);
    assertEquals(EventValidator.AMOUNT_TEXT, e.expected);
    e = bad("type", "purchase", "order_id", "o", "revenue", Marketlift.money("1", "EUR"),
        "line_items", Arrays.asList(Marketlift.fields("listing_id", "L", "quantity", 0,
            "unit_price", Marketlift.money("1", "EUR"))));
    assertEquals("line_items[0].quantity", e.field);
    assertEquals("int >= 1", e.expected);
    e = bad("type", "search", "query", "m", "colour", "red");
    assertEquals("no such field on 'search' in schema v1", e.expected);
    e = bad("type", "tap");
    assertEquals("type", e.field);
  }
}
