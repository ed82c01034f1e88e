package io.marketlift.sdk;

/**
 * Misuse of the SDK, raised before anything is queued or sent: the message names the field, the
 * value found and what was expected, as the collector's per-field errors do.
 *
 * <p>Example: {@code track("search"): query == "", expected str of length >= 1.}
 */
public class MarketliftException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The offending field, a dotted path such as {@code line_items[0].quantity}. */
  public final String field;
  /** The value found ({@code "<missing>"} for a missing required field). */
  public final transient Object value;
  /** What was expected instead. */
  public final String expected;

  /**
   * Creates the error.
   *
   * @param context where it happened, such as {@code track("search")}; may be null
   * @param field the offending field
   * @param value the value found
   * @param expected what was expected
   */
  public MarketliftException(String context, String field, Object value, String expected) {
    super((context == null ? "" : context + ": ") + field + " == " + show(value) + ", expected "
        + expected + ".");
    this.field = field;
    this.value = value;
    this.expected = expected;
  }

  /** The marker used as the value of a missing field. */
  public static final String MISSING = "<missing>";

  static String show(Object value) {
    if (MISSING.equals(value)) {
      return MISSING;
    }
    try {
      String text = MiniJson.INSTANCE.write(value);
      return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    } catch (IllegalArgumentException notJson) {
      return String.valueOf(value);
    }
  }
}
