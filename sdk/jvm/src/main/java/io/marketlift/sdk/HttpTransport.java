package io.marketlift.sdk;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.Charset;
import java.util.Map;

/** {@link Transport} over {@code java.net.HttpURLConnection} (on the JVM and on Android). */
public final class HttpTransport implements Transport {
  private static final Charset UTF8 = Charset.forName("UTF-8");
  /** Most bytes of an answer read (decisions and batch reports are far smaller). */
  private static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;

  @Override
  public Response post(String url, byte[] body, Map<String, String> headers, int timeoutMs)
      throws IOException {
    HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
    try {
      c.setRequestMethod("POST");
      c.setDoOutput(true);
      c.setUseCaches(false);
      c.setInstanceFollowRedirects(false);
      c.setConnectTimeout(timeoutMs);
      c.setReadTimeout(timeoutMs);
      c.setFixedLengthStreamingMode(body.length);
      for (Map.Entry<String, String> h : headers.entrySet()) {
        c.setRequestProperty(h.getKey(), h.getValue());
      }
      OutputStream out = c.getOutputStream();
      try {
        out.write(body);
      } finally {
        out.close();
      }
      int status = c.getResponseCode();
      InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
      String text = in == null ? "" : new String(readAll(in), UTF8);
      return new Response(status, text, c.getHeaderField("Retry-After"));
    } finally {
      c.disconnect();
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try {
      ByteArrayOutputStream buf = new ByteArrayOutputStream(1024);
      byte[] chunk = new byte[8192];
      int n;
      while ((n = in.read(chunk)) > 0) {
        if (buf.size() + n > MAX_ANSWER_BYTES) {
          throw new IOException("answer larger than " + MAX_ANSWER_BYTES + " bytes");
        }
        buf.write(chunk, 0, n);
      }
      return buf.toByteArray();
    } finally {
      in.close();
    }
  }
}
