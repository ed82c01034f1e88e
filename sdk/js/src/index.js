/**
 * @marketlift/sdk: the marketlift web SDK.
 *
 * Queues buyer events, sends them in batches to a marketlift collector (`POST /v1/events`),
 * retries failed batches with exponential backoff and jitter (a retried batch resends the same
 * `event_id`s, the collector's idempotency key), survives page unload with `sendBeacon`,
 * assigns experiment variants exactly as the Python package does, and asks the decision API
 * (`POST /v1/decide`) what to show a buyer.
 *
 * No framework, no runtime dependency; runs in browsers and in Node >= 20.
 *
 * @example
 * import { createClient } from '@marketlift/sdk';
 * const ml = createClient({ endpoint: 'https://collect.example.com', locale: 'de-DE' });
 * ml.pageView();
 * ml.track('search', { query: 'ceramic mug' });
 * const { listings, engagement } = await ml.decide({ surface: 'home', limit: 12 });
 *
 * @module @marketlift/sdk
 */

/** Version of this package. */
export const VERSION = '0.1.0';
/** Version of the event schema this SDK writes. */
export const SCHEMA_VERSION = 1;

const DECIMAL = /^[0-9]{1,13}(\.[0-9]{1,6})?$/; // never negative (schema v1)
const CURRENCY = /^[A-Z]{3}$/;
const LOCALE = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;
const MONEY_HINT = 'money as {amount: "12.50", currency: "EUR"} (a decimal string, never a JS number)';
const BEACON_BYTES = 60000; // browsers cap all in-flight beacon/keepalive bodies at 64 KiB

const ENGAGEMENT = { action: 'string!', channel: 'string!', decision_id: 'string!' };

/**
 * Fields of each event type beyond the common ones, with their kind; "!" marks a required field.
 * Mirrors `marketlift.events.schema`; the collector validates everything else (lengths, patterns).
 */
export const EVENT_FIELDS = Object.freeze({
  page_view: { url: 'string', referrer: 'string', surface: 'string' },
  search: { query: 'string!', results_count: 'integer', category: 'string' },
  listing_view: {
    listing_id: 'string!', shop_id: 'string', price: 'money', surface: 'string',
    position: 'integer', decision_id: 'string',
  },
  favorite: { listing_id: 'string!' },
  add_to_cart: { listing_id: 'string!', quantity: 'integer', price: 'money' },
  remove_from_cart: { listing_id: 'string!', quantity: 'integer' },
  checkout_start: { cart_value: 'money', item_count: 'integer' },
  purchase: { order_id: 'string!', line_items: 'line_items!', revenue: 'money!' },
  impression: { surface: 'string!', listings: 'listings!', decision_id: 'string' },
  engagement_shown: { ...ENGAGEMENT, propensity: 'number!' },
  engagement_clicked: { ...ENGAGEMENT, propensity: 'number' },
  engagement_dismissed: { ...ENGAGEMENT, propensity: 'number' },
  decision: {
    decision_id: 'string!', surface: 'string!', propensity: 'number!', action: 'string',
    channel: 'string', policy: 'string', listing_ids: 'strings', model_versions: 'object',
  },
  exposure: { experiment_key: 'string!', variant: 'string!', decision_id: 'string' },
});

/** Common fields a caller may set per event (the SDK fills the others). */
const COMMON_FIELDS = {
  event_id: 'string', ts: 'timestamp', buyer_id: 'string', anonymous_id: 'string',
  session_id: 'string', app_version: 'string', locale: 'string', currency: 'string',
  country: 'string', properties: 'properties',
};

/** Misuse of the SDK: the message names the field, the value and what was expected. */
export class MarketliftError extends Error {
  /**
   * @param {string} field  Name (or dotted path) of the offending field or option.
   * @param {unknown} value The value found.
   * @param {string} expected What was expected instead.
   * @param {string} [context] Where it happened, such as `track("purchase")`.
   */
  constructor(field, value, expected, context) {
    super(`${context ? `${context}: ` : ''}${field} == ${show(value)}, expected ${expected}.`);
    this.name = 'MarketliftError';
    this.field = field;
    this.value = value;
    this.expected = expected;
  }
}

function show(value) {
  if (value === undefined) return '<missing>';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Validation of track() input: before anything is queued.

/** @type {Record<string, [(v: unknown) => boolean, string]>} */
const SIMPLE_KINDS = {
  string: [(v) => typeof v === 'string' && v.length > 0, 'a non-empty string'],
  integer: [Number.isInteger, 'an integer'],
  number: [(v) => typeof v === 'number' && Number.isFinite(v), 'a finite number'],
  timestamp: [(v) => (v instanceof Date ? !Number.isNaN(v.getTime()) : typeof v === 'string'),
    'a Date or an RFC 3339 string'],
  strings: [(v) => Array.isArray(v) && v.every((s) => typeof s === 'string'), 'an array of strings'],
  object: [isObject, 'an object'],
};

/** @type {Record<string, string>} What a value of each composite kind looks like. */
const COMPOSITE_KINDS = {
  money: MONEY_HINT,
  line_items: 'a non-empty array of {listing_id, quantity, unit_price}',
  listings: 'a non-empty array of {listing_id, position}',
  properties: 'an object of at most 50 keys',
};

function checkMoney(path, v, fail) {
  if (!isObject(v)) fail(path, v, MONEY_HINT);
  if (typeof v.amount !== 'string' || !DECIMAL.test(v.amount)) {
    fail(`${path}.amount`, v.amount, 'a decimal string >= 0 such as "12.50" (never a JS number)');
  }
  if (typeof v.currency !== 'string' || !CURRENCY.test(v.currency)) {
    fail(`${path}.currency`, v.currency, 'an ISO 4217 currency code such as "EUR"');
  }
  checkKeys(path, v, ['amount', 'currency'], fail);
}

function checkKeys(path, v, allowed, fail) {
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) {
      fail(`${path}.${key}`, v[key], `no such field (one of ${allowed.join(', ')})`);
    }
  }
}

function checkList(path, v, fail, item) {
  if (!Array.isArray(v) || v.length === 0) fail(path, v, 'a non-empty array');
  v.forEach((entry, i) => {
    if (!isObject(entry)) fail(`${path}[${i}]`, entry, 'an object');
    item(`${path}[${i}]`, entry);
  });
}

function checkValue(path, kind, v, fail) {
  if (kind in SIMPLE_KINDS) {
    const [ok, expected] = SIMPLE_KINDS[kind];
    if (!ok(v)) fail(path, v, expected);
  } else if (kind === 'money') {
    checkMoney(path, v, fail);
  } else if (kind === 'line_items') {
    checkList(path, v, fail, (p, li) => {
      checkValue(`${p}.listing_id`, 'string', li.listing_id, fail);
      checkValue(`${p}.quantity`, 'integer', li.quantity, fail);
      checkMoney(`${p}.unit_price`, li.unit_price, fail);
      checkKeys(p, li, ['listing_id', 'quantity', 'unit_price'], fail);
    });
  } else if (kind === 'listings') {
    checkList(path, v, fail, (p, it) => {
      checkValue(`${p}.listing_id`, 'string', it.listing_id, fail);
      checkValue(`${p}.position`, 'integer', it.position, fail);
      checkKeys(p, it, ['listing_id', 'position'], fail);
    });
  } else if (kind === 'properties') {
    if (!isObject(v)) fail(path, v, COMPOSITE_KINDS.properties);
    const keys = Object.keys(v);
    if (keys.length > 50) fail(path, `<${keys.length} keys>`, 'at most 50 keys');
    for (const key of keys) {
      const x = v[key];
      const ok = x === null || typeof x === 'string' || typeof x === 'boolean'
        || (typeof x === 'number' && Number.isFinite(x));
      if (!ok) fail(`${path}.${key}`, x, 'a string, a finite number, a boolean or null');
    }
  }
}

/**
 * Check the fields of one event of `type`; throws {@link MarketliftError} on the first problem.
 *
 * @param {string} type An event type, a key of {@link EVENT_FIELDS}.
 * @param {Record<string, unknown>} fields The type's fields and optional common fields.
 */
export function validateFields(type, fields) {
  const context = `track(${show(type)})`;
  const fail = (field, value, expected) => {
    throw new MarketliftError(field, value, expected, context);
  };
  if (!Object.hasOwn(EVENT_FIELDS, type)) {
    fail('type', type, `one of ${Object.keys(EVENT_FIELDS).join(', ')}`);
  }
  if (fields !== undefined && !isObject(fields)) fail('fields', fields, 'an object');
  const spec = EVENT_FIELDS[type];
  for (const [name, kind] of Object.entries(spec)) {
    const base = kind.slice(0, -1);
    if (kind.endsWith('!') && (fields?.[name] ?? null) === null) {
      fail(name, fields?.[name], SIMPLE_KINDS[base]?.[1] ?? COMPOSITE_KINDS[base]);
    }
  }
  for (const [name, value] of Object.entries(fields ?? {})) {
    const kind = spec[name] ?? COMMON_FIELDS[name];
    if (kind === undefined) {
      const known = [...Object.keys(spec), ...Object.keys(COMMON_FIELDS)];
      fail(name, value, `no such field on ${type} (one of ${known.join(', ')})`);
    }
    if (value !== undefined && value !== null) checkValue(name, kind.replace('!', ''), value, fail);
  }
}

// ---------------------------------------------------------------------------------------------
// Validation of decide() input and output.

/** Surfaces the decision API knows. */
export const SURFACES = Object.freeze(['home', 'search', 'listing', 'cart', 'push']);
const PLATFORMS = ['web', 'ios', 'android'];
const DECIDE_FIELDS = ['buyer_id', 'anonymous_id', 'session_id', 'surface', 'platform', 'locale',
  'country', 'context', 'candidates', 'limit'];
const CONTEXT_FIELDS = ['listing_id', 'query', 'cart', 'recent', 'channels'];
const CHANNELS = ['push', 'email'];
const MAX_RECENT = 50;
const MAX_CANDIDATES = 1000;
const MAX_CART = 200;
const MAX_QUERY = 512;

/**
 * @typedef {object} DecideRequest
 * @property {'home'|'search'|'listing'|'cart'|'push'} surface Where the answer is shown.
 * @property {string | null} [buyer_id] Defaults to the client's {@link Client#buyerId}.
 * @property {string | null} [anonymous_id] Defaults to the client's {@link Client#anonymousId}.
 * @property {string | null} [session_id] Defaults to the client's current session.
 * @property {'web'|'ios'|'android'} [platform] Defaults to the client's platform.
 * @property {string} [locale] BCP 47 tag; defaults to the client's locale.
 * @property {string} [country] ISO 3166-1 alpha-2; defaults to the client's country.
 * @property {{listing_id?: string | null, query?: string | null, cart?: string[], recent?: string[],
 *   channels?: ('push'|'email')[] | null}} [context]
 *   The listing on screen, the search query, the listing ids in the cart, recently viewed listings,
 *   the message channels the buyer can be reached on (omitted: all).
 * @property {string[]} [candidates] Listing ids to rank (the server picks candidates otherwise).
 * @property {number} [limit=20] Most listings to return, 1 to 100.
 */

/**
 * @typedef {object} Decision
 * @property {string} decision_id Pass it on to `listing_view`, `impression` and engagement events.
 * @property {{listing_id: string, score: number, reason: string}[]} listings Best first.
 * @property {null | {action: string, channel: string | null, propensity: number,
 *   touchpoint: string, copy: Record<string, string>, copy_status: 'hit'|'miss'}} engagement
 * @property {{experiment_key: string, variant: string, unit: string}[]} assignments
 * @property {{ranker: string | null, intent: string | null, policy: string | null}} models
 * @property {boolean} degraded True when a fallback answered (see `degraded_reasons`).
 * @property {string[]} degraded_reasons
 * @property {Record<string, number>} timings_ms Server time per stage.
 */

/**
 * Check a decide request; throws {@link MarketliftError} naming the first bad field.
 * @param {Record<string, unknown>} request A request with the client's defaults filled in.
 */
export function validateDecideRequest(request) {
  const fail = (field, value, expected) => {
    throw new MarketliftError(field, value, expected, 'decide');
  };
  if (!isObject(request)) fail('request', request, 'an object such as {surface: "home"}');
  checkKeys('request', request, DECIDE_FIELDS, (field, value, expected) => fail(field.slice(8), value, expected));
  const optionalString = (name, v) => {
    if (v !== undefined && v !== null && !(typeof v === 'string' && v.length > 0 && v.length <= 128)) {
      fail(name, v, 'null or a string of 1 to 128 characters');
    }
  };
  for (const name of ['buyer_id', 'anonymous_id', 'session_id']) optionalString(name, request[name]);
  if ((request.buyer_id ?? null) === null && (request.anonymous_id ?? null) === null) {
    fail('buyer_id', request.buyer_id, 'a buyer_id or an anonymous_id (one of the two)');
  }
  if (!SURFACES.includes(/** @type {string} */ (request.surface))) {
    fail('surface', request.surface, `one of ${SURFACES.join(', ')}`);
  }
  if (!PLATFORMS.includes(/** @type {string} */ (request.platform))) {
    fail('platform', request.platform, `one of ${PLATFORMS.join(', ')}`);
  }
  if (typeof request.locale !== 'string' || !LOCALE.test(request.locale)) {
    fail('locale', request.locale, 'a BCP 47 tag such as "de-DE"');
  }
  if (request.country != null && !(typeof request.country === 'string' && /^[A-Z]{2}$/.test(request.country))) {
    fail('country', request.country, 'an ISO 3166-1 alpha-2 code such as "DE"');
  }
  const { context, candidates, limit } = request;
  if (context != null) {
    if (!isObject(context)) fail('context', context, 'an object {listing_id, query, cart, recent}');
    checkKeys('context', context, CONTEXT_FIELDS, fail);
    optionalString('context.listing_id', context.listing_id);
    if (context.query != null && !(typeof context.query === 'string' && context.query.length <= MAX_QUERY)) {
      fail('context.query', context.query, `null or a string of at most ${MAX_QUERY} characters`);
    }
    if (context.cart != null) {
      if (!Array.isArray(context.cart) || context.cart.length > MAX_CART) {
        fail('context.cart', context.cart, `an array of at most ${MAX_CART} listing ids`);
      }
      context.cart.forEach((id, i) => optionalString(`context.cart[${i}]`, id ?? ''));
    }
    if (context.recent != null) {
      if (!Array.isArray(context.recent) || context.recent.length > MAX_RECENT) {
        fail('context.recent', context.recent, `an array of at most ${MAX_RECENT} listing ids`);
      }
      context.recent.forEach((id, i) => optionalString(`context.recent[${i}]`, id ?? ''));
    }
    if (context.channels != null) {
      const ok = Array.isArray(context.channels) && context.channels.length <= CHANNELS.length
        && context.channels.every((c) => CHANNELS.includes(c));
      if (!ok) fail('context.channels', context.channels, `null or an array of ${CHANNELS.join(', ')}`);
    }
  }
  if (candidates != null) {
    if (!Array.isArray(candidates) || candidates.length > MAX_CANDIDATES) {
      fail('candidates', candidates, `an array of at most ${MAX_CANDIDATES} listing ids`);
    }
    candidates.forEach((id, i) => optionalString(`candidates[${i}]`, id ?? ''));
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
    fail('limit', limit, 'an integer from 1 to 100');
  }
}

/** The decision API failed: `status` is the HTTP status (`null` for a network error or timeout). */
export class DecideError extends Error {
  /**
   * @param {number | null} status
   * @param {string} reason
   * @param {{field: string, value: unknown, expected: string}[]} [errors] Per-field problems.
   */
  constructor(status, reason, errors = []) {
    const fields = errors.map((e) => `${e.field} == ${show(e.value)}, expected ${e.expected}`);
    super(`decide: ${status === null ? '' : `HTTP ${status}: `}${[reason, ...fields].filter(Boolean).join('; ')}`);
    this.name = 'DecideError';
    this.status = status;
    this.errors = errors;
    /** The first field the server named, if any. */
    this.field = errors[0]?.field ?? null;
    /** Whether the same request may succeed later (network error, timeout, 408, 429, 5xx). */
    this.retryable = status === null || status === 408 || status === 429 || status >= 500;
  }
}

function checkDecision(body) {
  const bad = (field, value, expected) => new DecideError(200, `malformed answer: ${field} == ${show(value)}, expected ${expected}`);
  if (!isObject(body)) throw bad('body', body, 'an object');
  if (typeof body.decision_id !== 'string') throw bad('decision_id', body.decision_id, 'a string');
  if (!Array.isArray(body.listings)) throw bad('listings', body.listings, 'an array');
  body.listings.forEach((l, i) => {
    if (typeof l?.listing_id !== 'string') throw bad(`listings[${i}].listing_id`, l?.listing_id, 'a string');
  });
  if (body.engagement != null && !isObject(body.engagement)) throw bad('engagement', body.engagement, 'null or an object');
  body.engagement ??= null;
  body.assignments ??= [];
  body.degraded_reasons ??= [];
  body.degraded = body.degraded === true;
  return body;
}

// ---------------------------------------------------------------------------------------------
// Ids, storage, time.

/** @returns {string} A random UUID v4 (crypto.randomUUID, or getRandomValues, or Math.random). */
export function uuid() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID(); // secure contexts only
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i += 1) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** @returns {Storage | null} localStorage when it is usable (it throws in some sandboxes). */
function defaultStorage() {
  try {
    const s = globalThis.localStorage;
    if (!s) return null;
    s.setItem('marketlift:probe', '1');
    s.removeItem('marketlift:probe');
    return s;
  } catch {
    return null;
  }
}

/** An in-memory stand-in for localStorage. */
function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => void m.set(k, String(v)),
    removeItem: (k) => void m.delete(k),
  };
}

// ---------------------------------------------------------------------------------------------
// Experiment assignment: byte for byte the same as marketlift.experiments (Python).

const UTF8 = new TextEncoder();

/**
 * 32-bit FNV-1a of bytes.
 * @param {Uint8Array} bytes
 * @returns {number} An unsigned 32-bit integer.
 */
export function fnv1a32(bytes) {
  let h = 2166136261;
  for (const byte of bytes) h = Math.imul(h ^ byte, 16777619) >>> 0;
  return h >>> 0;
}

/**
 * The bucket, 0 to 9999, of `unit` under `salt`.
 * @param {string} salt
 * @param {string} unit A buyer id or anonymous id.
 * @returns {number}
 */
export function bucket(salt, unit) {
  const inner = fnv1a32(UTF8.encode(`${salt}:${unit}`));
  return fnv1a32(UTF8.encode(String(inner))) % 10000;
}

/**
 * @typedef {object} Experiment
 * @property {string} salt
 * @property {{name: string, weight: number}[]} variants
 * @property {number} [holdout_pct] Percent of units held out (0 to 100), assigned no variant.
 * @property {{salt: string, start: number, end: number} | null} [layer] Units whose layer
 *   bucket falls outside [start, end) are not in the experiment.
 */

/**
 * The variant of `experiment` that `unit` sees, or `null` when it is outside the layer or held out.
 * @param {Experiment} experiment
 * @param {string} unit
 * @returns {string | null} The variant's name.
 */
export function assignVariant(experiment, unit) {
  const fail = (field, value, expected) => {
    throw new MarketliftError(field, value, expected, 'assignVariant');
  };
  if (!isObject(experiment)) fail('experiment', experiment, 'an object');
  const { salt, variants, holdout_pct: holdoutPct = 0, layer = null } = experiment;
  if (typeof salt !== 'string') fail('salt', salt, 'a string');
  if (!Array.isArray(variants) || variants.length === 0) fail('variants', variants, 'a non-empty array');
  variants.forEach((v, i) => {
    if (typeof v?.name !== 'string') fail(`variants[${i}].name`, v?.name, 'a string');
    if (!(Number.isFinite(v.weight) && v.weight > 0)) {
      fail(`variants[${i}].weight`, v.weight, 'a positive finite number');
    }
  });
  if (!(typeof holdoutPct === 'number' && holdoutPct >= 0 && holdoutPct <= 100)) {
    fail('holdout_pct', holdoutPct, 'a number from 0 to 100');
  }
  if (layer !== null) {
    const { salt: layerSalt, start, end } = isObject(layer) ? layer : {};
    if (typeof layerSalt !== 'string' || !Number.isInteger(start) || !Number.isInteger(end)) {
      fail('layer', layer, 'null or {salt: string, start: integer, end: integer}');
    }
    const b = bucket(layerSalt, unit);
    if (!(start <= b && b < end)) return null;
  }
  const hold = Math.floor(holdoutPct * 100);
  const b = bucket(salt, unit);
  if (b < hold) return null;
  let total = 0;
  const cumulative = variants.map((v) => (total += v.weight));
  for (let i = 0; i < variants.length; i += 1) {
    const last = i === variants.length - 1;
    const t = last ? 10000 : hold + Math.floor(((10000 - hold) * cumulative[i]) / total);
    if (b < t) return variants[i].name;
  }
  return null; // unreachable: the last threshold is 10000
}

/**
 * The arm `unit` is in and the values it carries (feature-flag style), or `null` when the unit
 * is not in the experiment. Values are the variant's `values` object (`{}` when it has none),
 * the same the server applies: `{ranker, policy, copy_variant, actions_off, limit}`.
 * @param {Experiment & {variants: {name: string, weight: number, values?: object}[]}} experiment
 * @param {string} unit
 * @returns {{variant: string, values: object} | null}
 */
export function armValues(experiment, unit) {
  const variant = assignVariant(experiment, unit);
  if (variant === null) return null;
  const arm = experiment.variants.find((v) => v.name === variant);
  const values = arm.values ?? {};
  if (!isObject(values)) {
    throw new MarketliftError(`variants[${experiment.variants.indexOf(arm)}].values`, values,
      'an object', 'armValues');
  }
  return { variant, values: { ...values } };
}

// ---------------------------------------------------------------------------------------------
// The client.

/**
 * @typedef {object} ClientOptions
 * @property {string} endpoint Base URL of the collector, such as `https://collect.example.com`
 *   (events go to `<endpoint>/v1/events`; a URL already ending in `/v1/events` is used as is).
 * @property {string} [writeKey] Sent as `Authorization: Bearer <key>`; beacons, which cannot
 *   set headers, send it as `?write_key=<key>`.
 * @property {'web'|'ios'|'android'} [platform='web']
 * @property {string} [appVersion] Version of the site build, stamped as `app_version`.
 * @property {string} [locale] BCP 47 tag; defaults to `navigator.language` when it is one.
 * @property {string} [currency] ISO 4217 display currency, such as `EUR`.
 * @property {string} [country] ISO 3166-1 alpha-2 country, such as `DE`.
 * @property {number} [batchSize=50] Most events per request (the collector accepts up to 1000).
 * @property {number} [flushIntervalMs=2000] Longest time an event waits in the queue.
 * @property {number} [maxQueue=5000] Most queued events; beyond it the oldest are dropped.
 * @property {number} [maxRetries=8] Retries of one batch before it is dropped.
 * @property {number} [retryBaseMs=1000] First backoff; doubles per retry, with jitter.
 * @property {number} [retryMaxMs=60000] Longest backoff.
 * @property {number} [requestTimeoutMs=10000] A request slower than this counts as failed.
 * @property {string} [decideKey] Sent as `Authorization: Bearer <key>` on `decide()` when the
 *   server has a decide key (`MARKETLIFT_DECIDE_KEY`); none by default.
 * @property {number} [decideTimeoutMs=2000] `decide()` rejects with a {@link DecideError} after
 *   this long.
 * @property {number} [sessionTimeoutMs=1800000] Inactivity after which a new session starts.
 * @property {Pick<Storage, 'getItem'|'setItem'|'removeItem'> | null} [storage] Where the
 *   anonymous id, the session and the unsent queue persist; localStorage when usable, else memory.
 * @property {string} [storagePrefix='marketlift'] Prefix of the storage keys.
 * @property {(rejected: RejectedEvent[]) => void} [onRejected] Events the collector found
 *   invalid (they are not retried).
 * @property {(events: object[], reason: string) => void} [onDropped] Events given up on: a
 *   non-retryable answer, retries exhausted, or the queue full.
 * @property {() => number} [now] Clock in milliseconds (for tests).
 */

/**
 * @typedef {object} RejectedEvent
 * @property {number} index Position in the batch.
 * @property {string | null} event_id
 * @property {{field: string, value: unknown, expected: string}[]} errors
 * @property {object} [event] The event as sent.
 */

const DEFAULTS = {
  platform: 'web', batchSize: 50, flushIntervalMs: 2000, maxQueue: 5000, maxRetries: 8,
  retryBaseMs: 1000, retryMaxMs: 60000, requestTimeoutMs: 10000, sessionTimeoutMs: 30 * 60 * 1000,
  decideTimeoutMs: 2000, storagePrefix: 'marketlift',
};

/**
 * @typedef {ClientOptions & typeof DEFAULTS & {url: string, decideUrl: string, now: () => number,
 *   storage: Pick<Storage, 'getItem'|'setItem'|'removeItem'>}} ResolvedOptions
 */

/**
 * Apply the defaults and check every option.
 * @param {ClientOptions} options
 * @returns {ResolvedOptions}
 */
function resolveOptions(options) {
  const fail = (field, value, expected) => {
    throw new MarketliftError(field, value, expected, 'createClient');
  };
  if (!isObject(options)) fail('options', options, 'an object with at least an endpoint');
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = /** @type {ResolvedOptions} */ ({ ...DEFAULTS, ...given });
  if (typeof o.endpoint !== 'string' || !/^https?:\/\//.test(o.endpoint)) {
    fail('endpoint', o.endpoint, 'an http(s) URL');
  }
  if (!['web', 'ios', 'android'].includes(o.platform)) {
    fail('platform', o.platform, "one of 'web', 'ios', 'android'");
  }
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1 || o.batchSize > 1000) {
    fail('batchSize', o.batchSize, 'an integer from 1 to 1000');
  }
  const durations = ['flushIntervalMs', 'maxQueue', 'maxRetries', 'retryBaseMs', 'retryMaxMs',
    'requestTimeoutMs', 'sessionTimeoutMs', 'decideTimeoutMs'];
  for (const name of durations) {
    if (!(Number.isFinite(o[name]) && o[name] >= 0)) fail(name, o[name], 'a number >= 0');
  }
  for (const name of ['writeKey', 'decideKey', 'appVersion', 'locale', 'currency', 'country']) {
    if (o[name] !== undefined && typeof o[name] !== 'string') fail(name, o[name], 'a string');
  }
  const base = o.endpoint.replace(/\/+$/, '');
  o.url = base.endsWith('/v1/events') ? base : `${base}/v1/events`;
  o.decideUrl = `${o.url.slice(0, -'/v1/events'.length)}/v1/decide`;
  const language = globalThis.navigator?.language;
  if (o.locale === undefined && LOCALE.test(language ?? '')) o.locale = language;
  if (!('storage' in options)) o.storage = defaultStorage();
  o.storage ??= memoryStorage();
  o.now ??= () => Date.now();
  return o;
}

/** A marketlift client: make one per page with {@link createClient}. */
export class Client {
  #o;
  /** @type {object[]} Unacknowledged events, oldest first. */
  #queue = [];
  /** @type {{events: object[], attempt: number} | null} The batch being sent, resent as is. */
  #batch = null;
  #limit;
  #draining = null;
  #flushTimer = null;
  #retryTimer = null;
  #persistTimer = null;
  #closed = false;
  /** @type {object[]} Handed to sendBeacon, not known to have arrived: kept in storage only. */
  #beaconed = [];
  /** @type {string | undefined} */
  #anonymousId;
  #onPageEvent;

  /** @param {ClientOptions} options */
  constructor(options) {
    this.#o = resolveOptions(options);
    this.#limit = this.#o.batchSize;
    const saved = this.#read('queue');
    if (Array.isArray(saved)) {
      this.#queue = saved.filter((e) => isObject(e) && typeof e.event_id === 'string');
    }
    void this.anonymousId; // made and persisted on first use
    this.#onPageEvent = (event) => {
      if (event.type === 'pagehide' || globalThis.document?.visibilityState === 'hidden') {
        this.#sendOnUnload();
      } else {
        // Visible again: the page lived on, so the beacons it sent have long been delivered.
        this.#beaconed = [];
        this.#persistSoon();
      }
    };
    globalThis.addEventListener?.('pagehide', this.#onPageEvent);
    globalThis.document?.addEventListener?.('visibilitychange', this.#onPageEvent);
    if (this.#queue.length > 0) this.#scheduleFlush();
  }

  /** @returns {string} The persisted id of this browser (made anew if storage was cleared). */
  get anonymousId() {
    const stored = this.#read('anonymous_id');
    if (typeof stored === 'string') return (this.#anonymousId = stored);
    this.#anonymousId ??= uuid();
    this.#write('anonymous_id', this.#anonymousId);
    return this.#anonymousId;
  }

  /** @returns {string | null} The signed-in buyer, set by {@link Client#identify}. */
  get buyerId() {
    return this.#read('buyer_id') ?? null;
  }

  /** @returns {number} Events not yet acknowledged by the collector. */
  get queued() {
    return this.#queue.length;
  }

  /**
   * Queue one event. Throws {@link MarketliftError} on invalid input, before queueing anything.
   * @param {string} type An event type such as `'search'`; see {@link EVENT_FIELDS}.
   * @param {Record<string, unknown>} [fields] The type's fields, and optionally common fields
   *   (`properties`, `buyer_id`, `ts` ...) overriding the client's.
   * @returns {string} The event's `event_id`.
   */
  track(type, fields = {}) {
    if (this.#closed) {
      throw new MarketliftError('client', 'shut down', 'a client before shutdown()', `track(${show(type)})`);
    }
    validateFields(type, fields);
    const o = this.#o;
    /** @type {Record<string, any>} */
    const raw = {
      event_id: uuid(), type, schema_version: SCHEMA_VERSION, ts: new Date(o.now()).toISOString(),
      platform: o.platform, anonymous_id: this.anonymousId, buyer_id: this.buyerId,
      session_id: this.#session(), app_version: o.appVersion, locale: o.locale,
      currency: o.currency, country: o.country, ...fields,
    };
    if (raw.ts instanceof Date) raw.ts = raw.ts.toISOString();
    const event = Object.fromEntries(Object.entries(raw).filter(([, v]) => v != null));
    if (this.#queue.length >= o.maxQueue) {
      const oldest = this.#queue.splice(0, this.#queue.length - o.maxQueue + 1);
      this.#report('onDropped', oldest, `queue full (maxQueue=${o.maxQueue})`);
    }
    this.#queue.push(event);
    this.#persistSoon();
    this.#scheduleFlush();
    return event.event_id;
  }

  /**
   * Set (or with `null` clear) the pseudonymous id of the signed-in buyer for later events.
   * @param {string | null} buyerId
   */
  identify(buyerId) {
    if (buyerId === null) {
      this.#o.storage.removeItem(`${this.#o.storagePrefix}:buyer_id`);
      return;
    }
    if (typeof buyerId !== 'string' || buyerId.length === 0) {
      throw new MarketliftError('buyerId', buyerId, 'a non-empty string or null', 'identify');
    }
    this.#write('buyer_id', buyerId);
  }

  /**
   * Track a `page_view` with the current URL and referrer.
   * @param {Record<string, unknown>} [fields] `surface`, `properties` ... or overrides of `url`.
   * @returns {string} The event's `event_id`.
   */
  pageView(fields = {}) {
    const loc = globalThis.location?.href;
    const ref = globalThis.document?.referrer;
    return this.track('page_view', {
      ...(loc ? { url: loc.slice(0, 2048) } : {}),
      ...(ref ? { referrer: ref.slice(0, 2048) } : {}),
      ...fields,
    });
  }

  /**
   * Send every queued event now (without waiting for a pending backoff).
   * @returns {Promise<void>} Resolves when the queue is empty or a failed batch awaits its retry.
   */
  flush() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    return this.#kick();
  }

  /**
   * Ask the decision API (`POST <endpoint>/v1/decide`) what to show this buyer here.
   *
   * The buyer, anonymous id, session, platform, locale and country default to the client's. The
   * server logs the decision, the impression of the listings it answered and the experiment
   * exposures itself; track `listing_view` and `engagement_shown` with the `decision_id`.
   *
   * @param {DecideRequest} request At least the `surface`.
   * @param {{timeoutMs?: number, signal?: AbortSignal}} [options] Override `decideTimeoutMs`,
   *   or cancel with a signal.
   * @returns {Promise<Decision>}
   * @throws {MarketliftError} Invalid input (before anything is sent).
   * @throws {DecideError} A network error, a timeout, a non-2xx answer or a malformed body.
   */
  async decide(request, options = {}) {
    if (!isObject(request)) {
      throw new MarketliftError('request', request, 'an object such as {surface: "home"}', 'decide');
    }
    const o = this.#o;
    const filled = Object.fromEntries(Object.entries({
      buyer_id: this.buyerId, anonymous_id: this.anonymousId, session_id: this.#session(),
      platform: o.platform, locale: o.locale, country: o.country, ...request,
    }).filter(([, v]) => v !== undefined));
    validateDecideRequest(filled);
    const timeoutMs = options.timeoutMs ?? o.decideTimeoutMs;
    const timeout = globalThis.AbortSignal?.timeout?.(timeoutMs);
    const signals = [timeout, options.signal].filter(Boolean);
    const signal = signals.length > 1 && globalThis.AbortSignal?.any ? AbortSignal.any(signals) : signals[0];
    const headers = { 'Content-Type': 'application/json' };
    if (o.decideKey) headers.Authorization = `Bearer ${o.decideKey}`;
    let response;
    try {
      response = await fetch(o.decideUrl, {
        method: 'POST', body: JSON.stringify(filled), headers, credentials: 'omit', signal,
      });
    } catch (error) {
      const timedOut = timeout?.aborted === true;
      throw new DecideError(null, timedOut ? `no answer within ${timeoutMs} ms` : `network error: ${error?.message ?? error}`);
    }
    const text = await response.text().catch(() => '');
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const errors = Array.isArray(body?.errors) ? body.errors.filter(isObject) : [];
      const reason = typeof body?.error === 'string' ? body.error : text.slice(0, 200);
      throw new DecideError(response.status, reason, errors);
    }
    return checkDecision(body);
  }

  /**
   * Flush, then stop timers and unload listeners. Later `track` calls throw.
   * @returns {Promise<void>}
   */
  async shutdown() {
    globalThis.removeEventListener?.('pagehide', this.#onPageEvent);
    globalThis.document?.removeEventListener?.('visibilitychange', this.#onPageEvent);
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    clearTimeout(this.#retryTimer);
    this.#persistNow();
  }

  /** Same as the exported {@link bucket}. */
  bucket(salt, unit) {
    return bucket(salt, unit);
  }

  /** Same as the exported {@link assignVariant}. */
  assignVariant(experiment, unit) {
    return assignVariant(experiment, unit);
  }

  /** Same as the exported {@link armValues}. */
  armValues(experiment, unit) {
    return armValues(experiment, unit);
  }

  // -- sending ---------------------------------------------------------------------------------

  #scheduleFlush() {
    if (this.#retryTimer || this.#closed) return;
    if (this.#queue.length >= this.#o.batchSize) {
      this.#kick();
    } else if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => this.#kick(), this.#o.flushIntervalMs);
    }
  }

  #kick() {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  async #drain() {
    while (!this.#retryTimer && (this.#batch || this.#queue.length > 0)) {
      this.#batch ??= { events: this.#queue.slice(0, this.#limit), attempt: 0 };
      const batch = this.#batch;
      const outcome = await this.#post(batch.events);
      if (outcome.kind === 'retry') {
        batch.attempt += 1;
        if (batch.attempt <= this.#o.maxRetries) {
          const delay = this.#backoff(batch.attempt, outcome.retryAfterMs);
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.#kick();
          }, delay);
          return;
        }
        const reason = `gave up after ${batch.attempt} attempts: ${outcome.reason}`;
        this.#report('onDropped', batch.events, reason);
      } else if (outcome.kind === 'split') {
        this.#limit = Math.max(1, Math.floor(batch.events.length / 2));
        this.#batch = null;
        continue;
      } else if (outcome.kind === 'drop') {
        this.#report('onDropped', batch.events, outcome.reason);
      }
      this.#settle(batch.events);
    }
  }

  /** Forget acknowledged (or given up) events. */
  #settle(events) {
    const ids = new Set(events.map((e) => e.event_id));
    this.#queue = this.#queue.filter((e) => !ids.has(e.event_id));
    this.#beaconed = this.#beaconed.filter((e) => !ids.has(e.event_id));
    this.#batch = null;
    this.#persistSoon();
  }

  #backoff(attempt, retryAfterMs) {
    const { retryBaseMs, retryMaxMs } = this.#o;
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** (attempt - 1));
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
    return Math.max(jittered, Math.min(retryAfterMs ?? 0, retryMaxMs));
  }

  /** POST one batch; classify the answer. */
  async #post(events) {
    const { url, requestTimeoutMs } = this.#o;
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(events),
        headers: this.#headers(),
        credentials: 'omit',
        signal: globalThis.AbortSignal?.timeout?.(requestTimeoutMs),
      });
    } catch (error) {
      return { kind: 'retry', reason: `network error: ${error?.message ?? error}` };
    }
    const { status } = response;
    if (status === 200 || status === 422) {
      const report = await response.json().catch(() => null);
      const rejected = Array.isArray(report?.rejected) ? report.rejected : [];
      if (rejected.length > 0) {
        this.#report('onRejected', rejected.map((r) => ({ ...r, event: events[r.index] })));
      }
      // A 422 without per-event errors refused the body as a whole (not a batch at all).
      if (status === 422 && rejected.length === 0) {
        return { kind: 'drop', reason: `HTTP 422: ${report?.error ?? ''}` };
      }
      return { kind: 'done' };
    }
    if (status >= 200 && status < 300) return { kind: 'done' };
    if (status === 413) {
      return events.length > 1 ? { kind: 'split' } : { kind: 'drop', reason: 'HTTP 413: event too large' };
    }
    if (status === 408 || status === 429 || status >= 500) {
      const after = Number(response.headers.get('Retry-After'));
      const retryAfterMs = Number.isFinite(after) ? after * 1000 : undefined;
      return { kind: 'retry', reason: `HTTP ${status}`, retryAfterMs };
    }
    const detail = await response.text().catch(() => '');
    return { kind: 'drop', reason: `HTTP ${status}: ${detail.slice(0, 200)}` };
  }

  /**
   * The page is going away (or hidden): hand the queue to sendBeacon, chunked under the
   * browser's 64 KiB limit. The events stay in storage until a later page load has them
   * acknowledged, so a lost beacon is resent; the collector dedupes on event_id.
   */
  #sendOnUnload() {
    const { url, writeKey, batchSize } = this.#o;
    const beaconUrl = writeKey ? `${url}?write_key=${encodeURIComponent(writeKey)}` : url;
    const beaconed = new Set();
    let chunk = [];
    let bytes = 2;
    const send = () => {
      if (chunk.length === 0) return;
      const body = JSON.stringify(chunk);
      let ok = false;
      try {
        ok = globalThis.navigator?.sendBeacon?.(beaconUrl, body) === true;
      } catch {
        ok = false;
      }
      if (ok) {
        for (const e of chunk) beaconed.add(e.event_id);
      } else {
        // No sendBeacon, or it refused: keepalive fetch. The events stay queued in memory too,
        // so if the page lives on they are resent (the collector dedupes).
        const init = { method: 'POST', body, keepalive: true, credentials: 'omit', headers: this.#headers() };
        fetch(url, /** @type {RequestInit} */ (init)).catch(() => {});
      }
      chunk = [];
      bytes = 2;
    };
    for (const event of this.#queue) {
      const size = UTF8.encode(JSON.stringify(event)).length + 1;
      if (chunk.length >= batchSize || bytes + size > BEACON_BYTES) send();
      chunk.push(event);
      bytes += size;
    }
    send();
    // Beaconed events leave the send queue (if this page lives on they are not sent twice) but
    // stay in storage: if the beacon was lost, the next page load sends them again.
    this.#beaconed.push(...this.#queue.filter((e) => beaconed.has(e.event_id)));
    this.#queue = this.#queue.filter((e) => !beaconed.has(e.event_id));
    this.#persistNow();
  }

  #headers() {
    const { writeKey } = this.#o;
    // text/plain avoids a CORS preflight (without a write key); the collector sniffs the body.
    const auth = writeKey ? { Authorization: `Bearer ${writeKey}` } : {};
    return { 'Content-Type': 'text/plain;charset=UTF-8', ...auth };
  }

  // -- state -----------------------------------------------------------------------------------

  #session() {
    const now = this.#o.now();
    let s = this.#read('session');
    if (!isObject(s) || typeof s.id !== 'string' || !(now - s.last <= this.#o.sessionTimeoutMs)) {
      s = { id: uuid() };
    }
    s.last = now;
    this.#write('session', s);
    return s.id;
  }

  #report(callback, ...args) {
    try {
      this.#o[callback]?.(...args);
    } catch (error) {
      // A throwing callback must not break delivery.
      globalThis.console?.error?.(`marketlift ${callback} callback threw`, error);
    }
  }

  #persistSoon() {
    this.#persistTimer ??= setTimeout(() => this.#persistNow(), 0);
  }

  #persistNow() {
    clearTimeout(this.#persistTimer);
    this.#persistTimer = null;
    const unsent = [...this.#beaconed, ...this.#queue];
    if (unsent.length > 0) this.#write('queue', unsent);
    else this.#o.storage.removeItem(`${this.#o.storagePrefix}:queue`);
  }

  #read(key) {
    try {
      const raw = this.#o.storage.getItem(`${this.#o.storagePrefix}:${key}`);
      return raw === null ? undefined : JSON.parse(raw);
    } catch {
      return undefined;
    }
  }

  #write(key, value) {
    try {
      this.#o.storage.setItem(`${this.#o.storagePrefix}:${key}`, JSON.stringify(value));
    } catch {
      // Quota exceeded or storage disabled: keep going in memory.
    }
  }
}

/**
 * Make a client. One per page is enough.
 * @param {ClientOptions} options
 * @returns {Client}
 */
export function createClient(options) {
  return new Client(options);
}
