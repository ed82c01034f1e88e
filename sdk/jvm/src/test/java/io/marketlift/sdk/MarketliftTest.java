package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client without a server: nothing here sends (no event is queued long enough). */
class MarketliftTest {
  @TempDir File dir;

  private Marketlift open() throws IOException {
    // Port 9 (discard) is closed here: any send would fail, and none is due within the test.
    return Marketlift.create(new Marketlift.Config("http://127.0.0.1:9", dir)
        .flushIntervalMs(3_600_000));
  }

  private static final Experiment AB = new Experiment("checkout_copy", "checkout_copy",
      Arrays.asList(new Experiment.Variant("control", 1), new Experiment.Variant("urgency", 1)),
      0, null);

  @Test
  void assignmentIsRememberedPerExperimentAndUnitAcrossRestarts() throws IOException {
    Marketlift ml = open();
    String anonymous = ml.anonymousId();
    assertNull(ml.assign("checkout_copy"));
    String variant = ml.assign(AB);
    assertEquals(AB.variantOf(anonymous), variant);
    assertEquals(variant, ml.assign("checkout_copy"));
    ml.close();
    Marketlift again = open();
    assertEquals(anonymous, again.anonymousId());
    assertEquals(variant, again.assign("checkout_copy"));
    // Signed in on this device: the remembered arm is still this device's, until assigned anew.
    again.identify(null, "buyer-2");
    assertEquals(variant, again.assign("checkout_copy"));
    assertEquals(AB.variantOf("buyer-2"), again.assign(AB));
    assertEquals(AB.variantOf("buyer-2"), again.assign("checkout_copy"));
    // Another device id and signed out: nothing remembered for this unit.
    again.identify("device-9", null);
    assertNull(again.assign("checkout_copy"));
    again.close();
  }

  @Test
  void identityPersistsAndSignOutClearsTheBuyer() throws IOException {
    Marketlift ml = open();
    ml.identify("device-1", "buyer-1");
    ml.close();
    Marketlift again = open();
    assertEquals("device-1", again.anonymousId());
    assertEquals("buyer-1", again.buyerId());
    again.identify(null, null);
    assertNull(again.buyerId());
    assertEquals("device-1", again.anonymousId());
    MarketliftException e = assertThrows(MarketliftException.class,
        () -> again.identify("", null));
    assertEquals("identify: anonymousId == \"\", expected null or a string of 1 to 128"
        + " characters.", e.getMessage());
    again.close();
  }

  @Test
  void aBadEventIsRefusedBeforeItIsQueued() throws IOException {
    Marketlift ml = open();
    MarketliftException e = assertThrows(MarketliftException.class,
        () -> ml.track("search", Marketlift.fields("query", "")));
    assertEquals("query", e.field);
    e = assertThrows(MarketliftException.class,
        () -> ml.track("search", Marketlift.fields("query", "x", "type", "page_view")));
    assertEquals("type", e.field);
    char[] big = new char[40_000];
    Arrays.fill(big, 'x');
    e = assertThrows(MarketliftException.class, () -> ml.track("search",
        Marketlift.fields("query", "x", "properties", Marketlift.fields("a", new String(big)))));
    assertEquals("properties", e.field);
    assertEquals(0, ml.queued());
    String id = ml.track("search", Marketlift.fields("query", "mug", "results_count", 3));
    assertNotNull(id);
    assertEquals(1, ml.queued());
    assertTrue(ml.queuedBytes() > 200);
    ml.close();
    assertThrows(IllegalStateException.class,
        () -> ml.track("search", Marketlift.fields("query", "mug")));
  }

  @Test
  void badSettingsNameTheSetting() {
    MarketliftException e = assertThrows(MarketliftException.class,
        () -> Marketlift.create(new Marketlift.Config("collect.example.com", dir)));
    assertEquals("Marketlift.Config: endpoint == \"collect.example.com\", expected an http(s)"
        + " URL.", e.getMessage());
    e = assertThrows(MarketliftException.class, () -> Marketlift.create(
        new Marketlift.Config("https://c.example.com", dir).batchSize(0)));
    assertEquals("batchSize", e.field);
    e = assertThrows(MarketliftException.class, () -> Marketlift.create(
        new Marketlift.Config("https://c.example.com", dir).maxQueueBytes(1000)));
    assertEquals("maxQueueBytes", e.field);
  }

  @Test
  void decideRequestsAreCheckedBeforeSending() throws IOException {
    Marketlift ml = open();
    Map<String, Object> bad = Marketlift.fields("surface", "home", "limit", 101);
    MarketliftException e = assertThrows(MarketliftException.class, () -> ml.decide(bad));
    assertEquals("decide: limit == 101, expected an integer from 1 to 100.", e.getMessage());
    e = assertThrows(MarketliftException.class,
        () -> ml.decide(Marketlift.fields("surface", "home", "locale", "en_US!")));
    assertEquals("locale", e.field);
    // A valid request to a closed port: a retryable DecideException, not a crash.
    DecideException d = assertThrows(DecideException.class,
        () -> ml.decide(Marketlift.fields("surface", "home", "locale", "en-US")));
    assertEquals(0, d.status);
    assertTrue(d.retryable());
    ml.close();
  }
}
