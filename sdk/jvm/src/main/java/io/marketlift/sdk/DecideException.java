package io.marketlift.sdk;

/**
 * The decision API ({@code /v1/decide}, {@code /v1/assign}) failed: a network error, a timeout,
 * a non-2xx answer or a malformed body.
 * {@link #status} is the HTTP status, or 0 when no answer came.
 */
public class DecideException extends Exception {
  private static final long serialVersionUID = 1L;

  /** The HTTP status, 0 for a network error or a timeout. */
  public final int status;

  /**
   * Creates the error.
   *
   * @param status the HTTP status, 0 when there was none
   * @param reason what went wrong
   */
  public DecideException(int status, String reason) {
    this("decide", status, reason);
  }

  /**
   * Creates the error of another call of the decision API.
   *
   * @param context the call, such as {@code refreshAssignments}
   * @param status the HTTP status, 0 when there was none
   * @param reason what went wrong
   */
  public DecideException(String context, int status, String reason) {
    super(context + ": " + (status == 0 ? "" : "HTTP " + status + ": ") + reason);
    this.status = status;
  }

  /**
   * Whether the same request may succeed later (no answer, 408, 429 or a 5xx).
   *
   * @return true when retrying may help
   */
  public boolean retryable() {
    return status == 0 || status == 408 || status == 429 || status >= 500;
  }
}
