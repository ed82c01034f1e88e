// The demo storefront: home, search, listing page and cart, on the marketlift JS SDK.
//
// Every page logs real events to /v1/events (page views, searches, listing views, add to cart,
// checkout, purchase, engagement shown/clicked/dismissed) and asks /v1/decide what
// to show: the ranked listings and, when the policy engages, a banner, a carousel or a reminder
// with the copy of the answer. The debug panel shows the decision: experiment variants,
// decision_id, degraded flag and reasons, stage timings, model versions. The server logs the
// decision, its impression and the experiment exposures itself.
//
// For tests and curious people, `window.shop` holds the client and the decisions of the page.
import { createClient } from '/shop/sdk/index.js';

const SETTINGS = JSON.parse(document.getElementById('shop-settings').textContent);

const TEXTS = {
  en: {
    cart: 'Cart', search: 'Search', searchPlaceholder: 'Search handmade & vintage',
    picked: 'Picked for you', popular: 'Popular right now', results: '{n} results for “{q}”',
    noResults: 'Nothing found for “{q}”. Popular instead:', addToCart: 'Add to cart',
    added: 'Added to your cart', alsoLike: 'You may also like', emptyCart: 'Your cart is empty.',
    checkout: 'Check out', total: 'Total', remove: 'Remove', ordered: 'Thank you! Order {id} is placed.',
    guest: 'Guest', buyer: 'Buyer {id}', reviews: '{n} reviews', dismiss: 'Dismiss', go: 'Show me',
    qty: 'Qty', notFound: 'This listing does not exist.', back: 'Back to the shop',
    inYourCart: 'In your cart', reminder: 'You left {n} item(s) in your cart.', viewCart: 'View cart',
    fallback: 'personalization unavailable, showing popular listings',
  },
  de: {
    cart: 'Warenkorb', search: 'Suchen', searchPlaceholder: 'Handgemachtes & Vintage suchen',
    picked: 'Für dich ausgewählt', popular: 'Gerade beliebt', results: '{n} Ergebnisse für „{q}“',
    noResults: 'Nichts gefunden für „{q}“. Stattdessen beliebt:', addToCart: 'In den Warenkorb',
    added: 'Zum Warenkorb hinzugefügt', alsoLike: 'Das könnte dir auch gefallen',
    emptyCart: 'Dein Warenkorb ist leer.', checkout: 'Zur Kasse', total: 'Summe', remove: 'Entfernen',
    ordered: 'Danke! Bestellung {id} ist aufgegeben.', guest: 'Gast', buyer: 'Käufer {id}',
    reviews: '{n} Bewertungen', dismiss: 'Schließen', go: 'Ansehen', qty: 'Menge',
    notFound: 'Dieses Angebot gibt es nicht.', back: 'Zurück zum Shop', inYourCart: 'In deinem Warenkorb',
    reminder: 'Du hast {n} Artikel im Warenkorb.', viewCart: 'Zum Warenkorb',
    fallback: 'Personalisierung nicht verfügbar, beliebte Angebote',
  },
  fr: {
    cart: 'Panier', search: 'Rechercher', searchPlaceholder: 'Rechercher fait main & vintage',
    picked: 'Choisi pour vous', popular: 'Populaire en ce moment', results: '{n} résultats pour « {q} »',
    noResults: 'Aucun résultat pour « {q} ». Populaire :', addToCart: 'Ajouter au panier',
    added: 'Ajouté à votre panier', alsoLike: 'Vous aimerez aussi', emptyCart: 'Votre panier est vide.',
    checkout: 'Commander', total: 'Total', remove: 'Retirer', ordered: 'Merci ! Commande {id} passée.',
    guest: 'Invité', buyer: 'Acheteur {id}', reviews: '{n} avis', dismiss: 'Fermer', go: 'Voir',
    qty: 'Qté', notFound: "Cette annonce n'existe pas.", back: 'Retour à la boutique',
    inYourCart: 'Dans votre panier', reminder: 'Vous avez laissé {n} article(s) dans votre panier.',
    viewCart: 'Voir le panier', fallback: 'personnalisation indisponible, annonces populaires',
  },
  es: {
    cart: 'Carrito', search: 'Buscar', searchPlaceholder: 'Buscar artesanía y vintage',
    picked: 'Elegido para ti', popular: 'Popular ahora', results: '{n} resultados para «{q}»',
    noResults: 'Nada para «{q}». Populares:', addToCart: 'Añadir al carrito', added: 'Añadido al carrito',
    alsoLike: 'También te puede gustar', emptyCart: 'Tu carrito está vacío.', checkout: 'Pagar',
    total: 'Total', remove: 'Quitar', ordered: '¡Gracias! Pedido {id} realizado.', guest: 'Invitado',
    buyer: 'Comprador {id}', reviews: '{n} reseñas', dismiss: 'Cerrar', go: 'Ver', qty: 'Cant.',
    notFound: 'Este anuncio no existe.', back: 'Volver a la tienda', inYourCart: 'En tu carrito',
    reminder: 'Dejaste {n} artículo(s) en tu carrito.', viewCart: 'Ver carrito',
    fallback: 'personalización no disponible, anuncios populares',
  },
  it: {
    cart: 'Carrello', search: 'Cerca', searchPlaceholder: 'Cerca artigianato e vintage',
    picked: 'Scelti per te', popular: 'Popolari ora', results: '{n} risultati per «{q}»',
    noResults: 'Niente per «{q}». Popolari:', addToCart: 'Aggiungi al carrello', added: 'Aggiunto al carrello',
    alsoLike: 'Potrebbe piacerti anche', emptyCart: 'Il carrello è vuoto.', checkout: 'Cassa',
    total: 'Totale', remove: 'Rimuovi', ordered: 'Grazie! Ordine {id} effettuato.', guest: 'Ospite',
    buyer: 'Acquirente {id}', reviews: '{n} recensioni', dismiss: 'Chiudi', go: 'Vedi', qty: 'Q.tà',
    notFound: 'Questo annuncio non esiste.', back: 'Torna al negozio', inYourCart: 'Nel carrello',
    reminder: 'Hai lasciato {n} articolo/i nel carrello.', viewCart: 'Vai al carrello',
    fallback: 'personalizzazione non disponibile, annunci popolari',
  },
};

// ---------------------------------------------------------------------------------------------
// Locale, identity, client.

const params = new URLSearchParams(location.search);
const store = {
  get: (k, d = null) => {
    try { return JSON.parse(localStorage.getItem(`shop:${k}`)) ?? d; } catch { return d; }
  },
  set: (k, v) => { try { localStorage.setItem(`shop:${k}`, JSON.stringify(v)); } catch { /* private mode */ } },
};

function pickLocale() {
  const asked = params.get('locale');
  if (asked && SETTINGS.locales.includes(asked)) {
    store.set('locale', asked);
    return asked;
  }
  const saved = store.get('locale');
  if (SETTINGS.locales.includes(saved)) return saved;
  const nav = SETTINGS.locales.find((l) => l === navigator.language) ?? 'en-US';
  return nav;
}

const LOCALE = pickLocale();
const LANG = LOCALE.split('-')[0];
const CURRENCY = SETTINGS.currencies[LOCALE];
const COUNTRY = LOCALE.split('-')[1];
const T = TEXTS[LANG] ?? TEXTS.en;
const t = (key, vars = {}) => (T[key] ?? TEXTS.en[key]).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
document.documentElement.lang = LOCALE;

const ml = createClient({
  endpoint: SETTINGS.endpoint || location.origin,
  writeKey: SETTINGS.writeKey ?? undefined,
  appVersion: 'demo-shop-1',
  locale: LOCALE,
  currency: CURRENCY,
  country: COUNTRY,
  flushIntervalMs: 1000,
  onRejected: (rejected) => console.warn('marketlift rejected events', rejected),
  onDropped: (events, reason) => console.warn(`marketlift dropped ${events.length} events: ${reason}`),
});
if (params.has('buyer')) ml.identify(params.get('buyer') || null);

const shop = {
  ml, locale: LOCALE, decisions: [], engagements: [], page: null, ready: false, errors: [], contextListing: null,
};
window.shop = shop;

// ---------------------------------------------------------------------------------------------
// Small helpers.

const $ = (sel, root = document) => root.querySelector(sel);
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}
const money = (price) => {
  if (!price) return '';
  try {
    return new Intl.NumberFormat(LOCALE, { style: 'currency', currency: price.currency }).format(Number(price.amount));
  } catch {
    return `${price.amount} ${price.currency}`;
  }
};
async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}
async function cards(ids) {
  if (ids.length === 0) return [];
  const q = new URLSearchParams({ ids: ids.join(','), locale: LOCALE });
  const { listings } = await getJson(`/shop/api/listings?${q}`);
  const byId = new Map(listings.map((l) => [l.listing_id, l]));
  return ids.map((id) => byId.get(id)).filter(Boolean);
}
const popular = async (limit = 12, category = null) => {
  const q = new URLSearchParams({ locale: LOCALE, limit: String(limit), ...(category ? { category } : {}) });
  return (await getJson(`/shop/api/popular?${q}`)).listings;
};

// The cart: listing ids and quantities (prices come from the catalog in the current locale).
const cart = {
  items: () => store.get('cart', []),
  ids: () => cart.items().map((i) => i.listing_id),
  count: () => cart.items().reduce((n, i) => n + i.quantity, 0),
  add(listingId) {
    const items = cart.items();
    const found = items.find((i) => i.listing_id === listingId);
    if (found) found.quantity += 1;
    else items.push({ listing_id: listingId, quantity: 1 });
    store.set('cart', items);
    updateCartCount();
  },
  remove(listingId) {
    store.set('cart', cart.items().filter((i) => i.listing_id !== listingId));
    updateCartCount();
  },
  clear() { store.set('cart', []); updateCartCount(); },
};
// Listings viewed in this browser session, most recent last: the ranker's candidates come
// from them (context.recent).
const recent = {
  ids: () => { try { return JSON.parse(sessionStorage.getItem('shop:recent')) ?? []; } catch { return []; } },
  add(listingId) {
    const ids = recent.ids().filter((id) => id !== listingId);
    ids.push(listingId);
    try { sessionStorage.setItem('shop:recent', JSON.stringify(ids.slice(-50))); } catch { /* private mode */ }
  },
};
function updateCartCount() {
  $('#cart-count').textContent = String(cart.count());
}

// ---------------------------------------------------------------------------------------------
// Decisions: ask /v1/decide, fall back to popularity when it cannot answer.

async function decide(surface, { listingId = null, query = null, candidates = null, limit = 12, fallback }) {
  const context = { listing_id: listingId, query, cart: cart.ids(), recent: recent.ids() };
  const request = { surface, context, limit };
  if (candidates && candidates.length > 0) request.candidates = candidates.slice(0, 1000);
  const started = performance.now();
  let decision;
  try {
    decision = await ml.decide(request);
    decision.source = 'server';
    if (decision.listings.length === 0) {
      // The server answered (engagement, assignments) but ranked nothing: show popular listings,
      // logged without the decision_id since the decision did not choose them.
      const listings = (await fallback()).slice(0, limit);
      decision.fill = listings.map((l, i) => ({ listing_id: l.listing_id, score: listings.length - i, reason: 'popular' }));
    }
  } catch (error) {
    const listings = (await fallback()).slice(0, limit);
    decision = {
      decision_id: null, source: 'client-fallback',
      listings: listings.map((l, i) => ({ listing_id: l.listing_id, score: listings.length - i, reason: 'popular' })),
      engagement: null, assignments: [], models: {}, degraded: true,
      degraded_reasons: [`decide failed (${error.status ?? 'network'}): ${error.message}`], timings_ms: {},
    };
    shop.errors.push(String(error.message));
  }
  decision.surface = surface;
  decision.client_ms = Math.round((performance.now() - started) * 10) / 10;
  shop.decisions.push(decision);
  renderDebug();
  return decision;
}

/** The listings to show: the decision's, or the popular ones that filled an empty answer. */
const shownIds = (decision) => (decision.fill ?? decision.listings).map((l) => l.listing_id);
const chosenBy = (decision) => (decision.fill ? null : decision.decision_id);

/**
 * Log what was shown when no decision did: the server logs the impression of every listing it
 * ranked (event id `<decision_id>-imp`), so only popular listings that filled in are logged here.
 */
function trackImpression(surface, decision, shown) {
  if (shown.length === 0 || chosenBy(decision) !== null) return;
  ml.track('impression', {
    surface, decision_id: chosenBy(decision),
    listings: shown.map((l, position) => ({ listing_id: l.listing_id, position })),
  });
}

// ---------------------------------------------------------------------------------------------
// Rendering.

function listingUrl(listing, decision, position, surface) {
  const q = new URLSearchParams({ s: surface, p: String(position) });
  if (decision && chosenBy(decision)) q.set('d', chosenBy(decision));
  return `/shop/listing/${encodeURIComponent(listing.listing_id)}?${q}`;
}

function card(listing, decision, position, surface) {
  const reason = (decision?.fill ?? decision?.listings)?.find((l) => l.listing_id === listing.listing_id)?.reason;
  return h('a', { class: 'card', href: listingUrl(listing, decision, position, surface), dataset: { listingId: listing.listing_id } },
    h('div', { class: `thumb cat-${listing.category}` }, h('span', {}, (listing.category ?? '').replace('_', ' '))),
    h('div', { class: 'title' }, listing.title),
    h('div', { class: 'meta' },
      h('b', { class: 'price' }, money(listing.price)),
      listing.rating ? h('span', { class: 'rating' }, `★ ${listing.rating}`) : null),
    reason ? h('div', { class: 'reason' }, reason) : null);
}

function grid(listings, decision, surface) {
  return h('div', { class: 'grid', dataset: { surface } }, listings.map((l, i) => card(l, decision, i, surface)));
}

const ICONS = {
  clock: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 10.4 3.6 2.1-.9 1.6L11 13V6h2z',
  truck: 'M3 5h11v9h2V8h3l3 4v5h-2a2.5 2.5 0 0 1-5 0H9a2.5 2.5 0 0 1-5 0H3zm3.5 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2zm11 0a1 1 0 1 0 0-2 1 1 0 0 0 0 2z',
  tag: 'M2 12V3h9l11 11-9 9zm5-4.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z',
  star: 'm12 2 3 7 7 .6-5.3 4.7 1.6 7.2L12 17.8 5.7 21.5l1.6-7.2L2 9.6 9 9z',
};
function icon(name) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `engagement-icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/**
 * Which widget shows an engagement: a carousel of similar items, a cart reminder, or a banner.
 * A buyer back on the home page with items in the cart (the `returning_visit` moment) sees the
 * nudge as a reminder of the cart.
 */
function widgetOf(engagement, surface) {
  if (engagement.action.includes('similar')) return 'carousel';
  if (engagement.action.includes('reminder')) return 'reminder';
  if (surface === 'home' && cart.count() > 0) return 'reminder';
  return 'banner';
}

/** The text to show: the copy of the answer (banner first, then push or email texts). */
function copyText(engagement) {
  const c = engagement.copy ?? {};
  const body = c.banner ?? c.push_body ?? c.email_subject ?? c.summary ?? Object.values(c).find((v) => typeof v === 'string');
  const title = c.banner ? null : (c.push_title ?? null);
  return { title, body: body ?? null };
}

async function renderEngagement(decision, surface) {
  const slot = $('#engagement-slot');
  slot.replaceChildren();
  const e = decision.engagement;
  if (!e || !decision.decision_id) return;
  const widget = widgetOf(e, surface);
  const { title, body } = copyText(e);
  const channel = e.channel ?? 'onsite';
  const base = { action: e.action, channel, decision_id: decision.decision_id };
  let target = '/shop/cart';
  const box = h('section', {
    class: `engagement engagement-${widget}`, role: 'status',
    dataset: { action: e.action, channel, widget, copyStatus: e.copy_status, decisionId: decision.decision_id, propensity: String(e.propensity) },
  });
  const text = h('div', { class: 'engagement-text' },
    title ? h('strong', { class: 'engagement-title' }, title) : null,
    h('span', { class: 'engagement-copy' }, body ?? e.action.replaceAll('_', ' ')));
  if (widget === 'carousel') {
    // Similar items: popular listings of the category of what the buyer looks at (the listing
    // on the page, else the cart, else the top answer), other than those already on the page.
    const anchorId = shop.contextListing ?? cart.ids()[0] ?? shownIds(decision)[0];
    const [anchor] = anchorId ? await cards([anchorId]) : [];
    const onPage = new Set([...shownIds(decision), anchorId]);
    const picks = (await popular(24, anchor?.category ?? null)).filter((l) => !onPage.has(l.listing_id)).slice(0, 8);
    box.append(text, h('div', { class: 'carousel' }, picks.map((l, i) => card(l, decision, i, surface))));
    target = null;
  } else if (widget === 'reminder') {
    box.append(icon('clock'), text);
    if (cart.count() > 0) box.append(h('small', { class: 'muted' }, t('reminder', { n: cart.count() })));
  } else {
    box.append(icon(e.action.includes('shipping') ? 'truck' : e.action.includes('coupon') || e.action.includes('price') ? 'tag' : 'star'), text);
  }
  const actions = h('div', { class: 'engagement-actions' });
  if (target) {
    actions.append(h('a', {
      class: 'button engagement-cta', href: target,
      onclick: () => ml.track('engagement_clicked', { ...base, propensity: e.propensity }),
    }, widget === 'reminder' ? t('viewCart') : t('go')));
  }
  actions.append(h('button', {
    class: 'link engagement-dismiss', type: 'button',
    onclick: () => {
      ml.track('engagement_dismissed', { ...base, propensity: e.propensity });
      box.remove();
    },
  }, t('dismiss')));
  box.append(actions);
  slot.append(box);
  const eventId = ml.track('engagement_shown', { ...base, propensity: e.propensity });
  shop.engagements.push({ ...e, widget, decision_id: decision.decision_id, surface, event_id: eventId, text: body });
}

function renderDebug() {
  const body = $('#debug-body');
  body.replaceChildren();
  for (const d of shop.decisions) {
    const variants = d.assignments.length
      ? d.assignments.map((a) => h('li', { class: 'variant', dataset: { experiment: a.experiment_key, variant: a.variant } },
        h('code', {}, a.experiment_key), ': ', h('b', {}, a.variant)))
      : [h('li', { class: 'muted' }, 'no experiment')];
    const timings = Object.entries(d.timings_ms ?? {}).map(([stage, ms]) => `${stage} ${Number(ms).toFixed(2)}`).join(' · ');
    const models = Object.entries(d.models ?? {}).map(([k, v]) => `${k} ${v ?? '–'}`).join(' · ');
    const e = d.engagement;
    body.append(h('div', { class: 'decision', dataset: { surface: d.surface, degraded: String(d.degraded), source: d.source } },
      h('dl', {},
        h('dt', {}, 'surface'), h('dd', {}, d.surface),
        h('dt', {}, 'decision_id'), h('dd', { class: 'decision-id' }, h('code', {}, d.decision_id ?? '–')),
        h('dt', {}, 'variants'), h('dd', {}, h('ul', { class: 'variants' }, variants)),
        h('dt', {}, 'degraded'), h('dd', { class: `degraded ${d.degraded ? 'yes' : 'no'}` },
          d.degraded ? `yes: ${d.degraded_reasons.join('; ')}` : 'no'),
        h('dt', {}, 'engagement'), h('dd', { class: 'debug-engagement' },
          e ? `${e.action} via ${e.channel ?? 'onsite'}, p=${Number(e.propensity).toFixed(3)}, copy ${e.copy_status}` : 'none'),
        h('dt', {}, 'timings (ms)'), h('dd', { class: 'timings' }, timings || '–', ` · round trip ${d.client_ms}`),
        h('dt', {}, 'models'), h('dd', {}, models || '–'),
        h('dt', {}, 'buyer'), h('dd', {}, h('code', {}, ml.buyerId ?? `anonymous ${ml.anonymousId.slice(0, 8)}`)))));
  }
}

// ---------------------------------------------------------------------------------------------
// Pages.

async function homePage(main) {
  ml.pageView({ surface: 'home' });
  const decision = await decide('home', { limit: 12, fallback: () => popular(12) });
  const listings = await cards(shownIds(decision));
  const heading = decision.source === 'server' && !decision.fill && !decision.degraded ? t('picked') : t('popular');
  main.replaceChildren(h('h1', {}, heading), grid(listings, decision, 'home'));
  trackImpression('home', decision, listings);
  await renderEngagement(decision, 'home');
}

async function searchPage(main) {
  const query = (params.get('q') ?? '').trim();
  $('#search-input').value = query;
  ml.pageView({ surface: 'search' });
  const q = new URLSearchParams({ q: query, locale: LOCALE, limit: '100' });
  const found = query ? await getJson(`/shop/api/search?${q}`) : { listing_ids: [] };
  if (query) ml.track('search', { query: query.slice(0, 512), results_count: found.listing_ids.length });
  const none = found.listing_ids.length === 0;
  const decision = await decide('search', {
    query: query || null, candidates: none ? null : found.listing_ids, limit: 24,
    fallback: async () => (none ? popular(24) : found.listings),
  });
  const listings = await cards(shownIds(decision));
  const heading = none ? t('noResults', { q: query }) : t('results', { n: found.listing_ids.length, q: query });
  main.replaceChildren(h('h1', {}, heading), grid(listings, decision, 'search'));
  trackImpression('search', decision, listings);
  await renderEngagement(decision, 'search');
}

async function listingPage(main, listingId) {
  ml.pageView({ surface: 'listing' });
  const [listing] = await cards([listingId]);
  shop.contextListing = listing?.listing_id ?? null;
  if (listing) recent.add(listing.listing_id);
  if (!listing) {
    main.replaceChildren(h('h1', {}, t('notFound')), h('a', { href: '/shop/' }, t('back')));
    return;
  }
  const position = Number.parseInt(params.get('p') ?? '', 10);
  ml.track('listing_view', {
    listing_id: listing.listing_id, shop_id: listing.shop_id ?? undefined, price: listing.price ?? undefined,
    surface: params.get('s') ?? 'listing', position: Number.isInteger(position) ? position : undefined,
    decision_id: params.get('d') ?? undefined,
  });
  const status = h('span', { class: 'added', id: 'added-status', role: 'status' });
  const add = h('button', {
    class: 'button primary', id: 'add-to-cart', type: 'button',
    onclick: () => {
      ml.track('add_to_cart', { listing_id: listing.listing_id, quantity: 1, price: listing.price ?? undefined });
      cart.add(listing.listing_id);
      status.textContent = t('added');
    },
  }, t('addToCart'));
  main.replaceChildren(h('article', { class: 'listing', dataset: { listingId: listing.listing_id } },
    h('div', { class: `hero thumb cat-${listing.category}` }, h('span', {}, (listing.category ?? '').replace('_', ' '))),
    h('div', { class: 'details' },
      h('h1', {}, listing.title),
      h('p', { class: 'price' }, money(listing.price)),
      listing.rating ? h('p', { class: 'rating' }, `★ ${listing.rating} · ${t('reviews', { n: listing.review_count ?? 0 })}`) : null,
      h('p', { class: 'description' }, listing.description),
      h('p', {}, add, ' ', status),
      h('p', { class: 'muted' }, `${listing.listing_id} · ${listing.shop_id ?? ''}`))));
  const decision = await decide('listing', {
    listingId: listing.listing_id, limit: 8, fallback: () => popular(9, listing.category),
  });
  const others = (await cards(shownIds(decision))).filter((l) => l.listing_id !== listing.listing_id);
  main.append(h('h2', {}, t('alsoLike')), grid(others, decision, 'listing'));
  trackImpression('listing', decision, others);
  await renderEngagement(decision, 'listing');
}

function cartValue(lines) {
  const digits = lines[0]?.price?.currency === 'JPY' ? 0 : 2;
  const scale = 10 ** digits;
  const minor = lines.reduce((n, { listing, quantity }) => n + Math.round(Number(listing.price.amount) * scale) * quantity, 0);
  return { amount: (minor / scale).toFixed(digits), currency: lines[0]?.price?.currency ?? CURRENCY };
}

async function cartPage(main) {
  ml.pageView({ surface: 'cart' });
  const items = cart.items();
  const found = new Map((await cards(items.map((i) => i.listing_id))).map((l) => [l.listing_id, l]));
  const lines = items.filter((i) => found.has(i.listing_id) && found.get(i.listing_id).price)
    .map((i) => ({ listing: found.get(i.listing_id), quantity: i.quantity }));
  const section = h('section', { class: 'cart' }, h('h1', {}, t('cart')));
  if (lines.length === 0) {
    section.append(h('p', { class: 'muted', id: 'cart-empty' }, t('emptyCart')));
  } else {
    const total = cartValue(lines);
    section.append(h('table', { class: 'cart-lines' }, h('tbody', {}, lines.map(({ listing, quantity }) => h('tr', { dataset: { listingId: listing.listing_id } },
      h('td', {}, h('a', { href: `/shop/listing/${listing.listing_id}?s=cart` }, listing.title)),
      h('td', {}, `${t('qty')} ${quantity}`),
      h('td', { class: 'num' }, money(listing.price)),
      h('td', {}, h('button', {
        class: 'link', type: 'button',
        onclick: () => {
          ml.track('remove_from_cart', { listing_id: listing.listing_id, quantity });
          cart.remove(listing.listing_id);
          location.reload();
        },
      }, t('remove'))))))),
    h('p', { class: 'total' }, `${t('total')}: `, h('b', { id: 'cart-total' }, money(total))),
    h('button', {
      class: 'button primary', id: 'checkout', type: 'button',
      onclick: () => {
        const value = cartValue(lines);
        const itemCount = lines.reduce((n, l) => n + l.quantity, 0);
        ml.track('checkout_start', { cart_value: value, item_count: itemCount });
        const orderId = `o-${crypto.randomUUID?.() ?? Date.now()}`.slice(0, 64);
        ml.track('purchase', {
          order_id: orderId, revenue: value,
          line_items: lines.map(({ listing, quantity }) => ({ listing_id: listing.listing_id, quantity, unit_price: listing.price })),
        });
        cart.clear();
        section.replaceChildren(h('h1', {}, t('cart')), h('p', { id: 'order-placed' }, t('ordered', { id: orderId })));
      },
    }, t('checkout')));
  }
  main.replaceChildren(section);
  const decision = await decide('cart', { limit: 8, fallback: () => popular(8) });
  const picks = (await cards(shownIds(decision))).filter((l) => !found.has(l.listing_id));
  main.append(h('h2', {}, t('alsoLike')), grid(picks, decision, 'cart'));
  trackImpression('cart', decision, picks);
  await renderEngagement(decision, 'cart');
}

// ---------------------------------------------------------------------------------------------
// Header: locale switcher, buyer switcher, cart count.

async function header() {
  $('#search-input').placeholder = t('searchPlaceholder');
  $('#cart-label').textContent = t('cart');
  updateCartCount();
  const locales = $('#locale-select');
  for (const loc of SETTINGS.locales) locales.append(h('option', { value: loc, selected: loc === LOCALE }, loc));
  locales.addEventListener('change', () => {
    const q = new URLSearchParams(location.search);
    q.set('locale', locales.value);
    location.search = q.toString();
  });
  const buyers = $('#buyer-select');
  buyers.append(h('option', { value: '' }, t('guest')));
  const current = ml.buyerId;
  let known = [];
  try {
    known = (await getJson('/shop/api/buyers?limit=20')).buyers;
  } catch { /* a lake without simulated buyers */ }
  if (current && !known.some((b) => b.buyer_id === current)) known.unshift({ buyer_id: current });
  for (const b of known) {
    buyers.append(h('option', { value: b.buyer_id, selected: b.buyer_id === current },
      t('buyer', { id: b.buyer_id }) + (b.locale ? ` (${b.locale})` : '')));
  }
  buyers.addEventListener('change', () => {
    const q = new URLSearchParams(location.search);
    q.set('buyer', buyers.value);
    location.search = q.toString();
  });
}

async function main() {
  const mainEl = $('#main');
  const path = location.pathname.replace(/\/+$/, '') || '/shop';
  await header();
  try {
    if (path === '/shop') {
      shop.page = 'home';
      await homePage(mainEl);
    } else if (path === '/shop/search') {
      shop.page = 'search';
      await searchPage(mainEl);
    } else if (path === '/shop/cart') {
      shop.page = 'cart';
      await cartPage(mainEl);
    } else if (path.startsWith('/shop/listing/')) {
      shop.page = 'listing';
      await listingPage(mainEl, decodeURIComponent(path.slice('/shop/listing/'.length)));
    } else {
      mainEl.replaceChildren(h('h1', {}, t('notFound')));
    }
  } catch (error) {
    shop.errors.push(String(error?.message ?? error));
    mainEl.append(h('p', { class: 'error' }, String(error?.message ?? error)));
    throw error;
  } finally {
    shop.ready = true;
    document.body.dataset.ready = 'true';
  }
}

main();
