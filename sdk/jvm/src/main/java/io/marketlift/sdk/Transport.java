package io.marketlift.sdk;

import java.io.IOException;
import java.util.Map;

/** Sends one HTTP POST. The SDK uses {@link HttpTransport}; tests and apps may plug in another. */
public interface Transport {
  /** An HTTP answer: the status, the body as text, and the {@code Retry-After} header or null. */
  final class Response {
    /** The HTTP status. */
    public final int status;
    /** The body as UTF-8 text (empty when there was none). */
    public final String body;
    /** The {@code Retry-After} header, or null. */
    public final String retryAfter;

    /**
     * Creates an answer.
     *
     * @param status the HTTP status
     * @param body the body text
     * @param retryAfter the Retry-After header or null
     */
    public Response(int status, String body, String retryAfter) {
      this.status = status;
      this.body = body;
      this.retryAfter = retryAfter;
    }
  }

  /**
   * POSTs a body and waits for the answer. Never call it on an app's main thread.
   *
   * @param url the absolute URL
   * @param body the request body
   * @param headers request headers (Content-Type included)
   * @param timeoutMs connect and read timeout
   * @return the answer (any status)
   * @throws IOException on a network error or a timeout
   */
  Response post(String url, byte[] body, Map<String, String> headers, int timeoutMs)
      throws IOException;
}
