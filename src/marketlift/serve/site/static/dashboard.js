// Live figures of the dashboard: polls /v1/stats every 2 s (ingestion counts and rate,
// decisions, fallbacks, decide latency percentiles).
const $ = (id) => document.getElementById(id);
const fmt = (x, digits = 0) => (x === null || x === undefined ? '–'
  : Number(x).toLocaleString('en-US', { maximumFractionDigits: digits }));
let last = null;

async function poll() {
  try {
    const r = await fetch('/v1/stats', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const s = await r.json();
    const now = performance.now();
    const events = s.events ?? {};
    const decide = s.decide ?? {};
    $('stat-accepted').textContent = fmt(events.accepted);
    $('stat-duplicate').textContent = fmt(events.duplicate);
    $('stat-rejected').textContent = fmt(events.rejected);
    if (last && now > last.at) {
      const rate = ((events.accepted ?? 0) - last.accepted) / ((now - last.at) / 1000);
      $('stat-rate').textContent = fmt(Math.max(0, rate), 1);
    }
    last = { at: now, accepted: events.accepted ?? 0 };
    $('stat-decisions').textContent = fmt(decide.requests);
    $('stat-fallbacks').textContent = fmt(decide.fallbacks);
    $('stat-p50').textContent = fmt(decide.p50_ms, 2);
    $('stat-p99').textContent = fmt(decide.p99_ms, 2);
    $('stat-status').textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.statsOk = 'true';
  } catch (error) {
    $('stat-status').textContent = `/v1/stats unavailable: ${error.message}`;
    document.body.dataset.statsOk = 'false';
  }
}

poll();
setInterval(poll, 2000);
