package io.marketlift.sdk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** The answer of {@code POST /v1/decide}: listings to show and an engagement, if any. */
public final class Decision {
  /** One listing of the answer, best first. */
  public static final class Listing {
    /** The listing's id. */
    public final String listingId;
    /** Its score (higher is better). */
    public final double score;
    /** Why it is there, such as {@code personalized}. */
    public final String reason;

    Listing(String listingId, double score, String reason) {
      this.listingId = listingId;
      this.score = score;
      this.reason = reason;
    }
  }

  /** Pass it on to {@code listing_view}, {@code impression} and engagement events. */
  public final String decisionId;
  /** The listings, best first. */
  public final List<Listing> listings;
  /** The engagement to show ({@code action, channel, propensity, touchpoint, copy}), or null. */
  public final Map<String, Object> engagement;
  /** Experiment assignments the server made ({@code experiment_key, variant, unit}). */
  public final List<Map<String, Object>> assignments;
  /** True when a fallback answered; see {@link #degradedReasons}. */
  public final boolean degraded;
  /** Why the answer is degraded, such as {@code ranker_unavailable}. */
  public final List<String> degradedReasons;
  /** The whole answer as decoded JSON. */
  public final Map<String, Object> raw;

  private Decision(Map<String, Object> raw, String decisionId, List<Listing> listings,
      Map<String, Object> engagement, List<Map<String, Object>> assignments, boolean degraded,
      List<String> degradedReasons) {
    this.raw = raw;
    this.decisionId = decisionId;
    this.listings = listings;
    this.engagement = engagement;
    this.assignments = assignments;
    this.degraded = degraded;
    this.degradedReasons = degradedReasons;
  }

  /**
   * Checks and reads a decoded answer.
   *
   * @param body the decoded JSON
   * @return the decision
   * @throws DecideException naming the first malformed field
   */
  @SuppressWarnings("unchecked")
  static Decision parse(Object body) throws DecideException {
    if (!(body instanceof Map)) {
      throw bad("body", body, "an object");
    }
    Map<String, Object> m = (Map<String, Object>) body;
    Object id = m.get("decision_id");
    if (!(id instanceof String)) {
      throw bad("decision_id", id, "a string");
    }
    Object rawListings = m.get("listings");
    if (!(rawListings instanceof List)) {
      throw bad("listings", rawListings, "an array");
    }
    List<Listing> listings = new ArrayList<Listing>();
    List<?> items = (List<?>) rawListings;
    for (int i = 0; i < items.size(); i++) {
      Object o = items.get(i);
      Map<?, ?> l = o instanceof Map ? (Map<?, ?>) o : null;
      Object lid = l == null ? null : l.get("listing_id");
      if (!(lid instanceof String)) {
        throw bad("listings[" + i + "].listing_id", lid, "a string");
      }
      Object score = l.get("score");
      Object reason = l.get("reason");
      listings.add(new Listing((String) lid, score instanceof Number
          ? ((Number) score).doubleValue() : Double.NaN,
          reason instanceof String ? (String) reason : null));
    }
    Object engagement = m.get("engagement");
    if (engagement != null && !(engagement instanceof Map)) {
      throw bad("engagement", engagement, "null or an object");
    }
    List<Map<String, Object>> assignments = new ArrayList<Map<String, Object>>();
    Object a = m.get("assignments");
    if (a instanceof List) {
      for (Object o : (List<?>) a) {
        if (o instanceof Map) {
          assignments.add((Map<String, Object>) o);
        }
      }
    }
    List<String> reasons = new ArrayList<String>();
    Object r = m.get("degraded_reasons");
    if (r instanceof List) {
      for (Object o : (List<?>) r) {
        reasons.add(String.valueOf(o));
      }
    }
    return new Decision(Collections.unmodifiableMap(m), (String) id,
        Collections.unmodifiableList(listings), (Map<String, Object>) engagement,
        Collections.unmodifiableList(assignments), Boolean.TRUE.equals(m.get("degraded")),
        Collections.unmodifiableList(reasons));
  }

  private static DecideException bad(String field, Object value, String expected) {
    return new DecideException(200, "malformed answer: " + field + " == "
        + MarketliftException.show(value) + ", expected " + expected);
  }
}
