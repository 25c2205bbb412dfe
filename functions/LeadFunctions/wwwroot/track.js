/*
 * LeadFunctions tracking snippet.
 *   <script src="https://<your-function-app>/track.js" defer></script>
 * Options (attributes on the script tag):
 *   data-endpoint="https://<app>/api/events"  where events go (default: /api/events next to this script)
 *   data-page-view="false"                    do not report the page view on load
 * It sets a first-party cookie lf_vid (an anonymous visitor id, one year), reports a page view, fills hidden
 * visitorId / pageUrl / referrer / utm_* inputs of forms on the page, fills a hidden idempotencyKey input with a key per
 * form (so a resubmission after a 503 is the same submission, never a second one), and exposes
 * leadFunctions.track(type, props).
 */
(function (window, document) {
  'use strict';

  var COOKIE = 'lf_vid';
  var ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
  var UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
  var KEY_FIELD = 'idempotencyKey';
  var KEY_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
  // A resubmission after a 503 comes within minutes; the same answers an hour later are a new submission.
  var KEY_LIFETIME_MS = 60 * 60 * 1000;
  // A beacon answered 503 or lost on the network is sent again with its key, at most this many times (never forever).
  var BEACON_RETRIES = 2;
  var script = document.currentScript;
  var base = script && script.src ? script.src : window.location.href;
  // A page on its own site (the deployed sample) names the API in config.js: window.leadFunctionsConfig.apiBaseUrl.
  var apiBaseUrl = (window.leadFunctionsConfig || {}).apiBaseUrl;
  var endpoint = (script && script.getAttribute('data-endpoint')) ||
    (apiBaseUrl ? apiBaseUrl + '/api/events' : new URL('/api/events', base).href);

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].substring(0, eq) === name) return decodeURIComponent(parts[i].substring(eq + 1));
    }
    return null;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID().replace(/-/g, '');
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function ensureVisitorId() {
    var id = readCookie(COOKIE);
    if (!id || !ID_PATTERN.test(id)) id = newId();
    // Re-set on every visit so the year counts from the last visit, not the first.
    var secure = window.location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = COOKIE + '=' + id + '; Max-Age=31536000; Path=/; SameSite=Lax' + secure;
    return id;
  }

  function utmTags() {
    var params = new URLSearchParams(window.location.search);
    var tags = {};
    UTM.forEach(function (name) {
      var value = params.get(name);
      if (value) tags[name] = value;
    });
    return tags;
  }

  var visitorId = ensureVisitorId();

  /* The visitor's IANA zone, so nurture e-mails can keep to a programme's sending hours in their local time. */
  function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; }
  }

  function context() {
    var fields = { visitorId: visitorId, pageUrl: window.location.href };
    if (document.referrer) fields.referrer = document.referrer;
    var zone = timeZone();
    if (zone) fields.timeZone = zone;
    var tags = utmTags();
    Object.keys(tags).forEach(function (k) { fields[k] = tags[k]; });
    return fields;
  }

  /*
   * URL-encoded so the browser needs no CORS preflight; sendBeacon survives the page being closed. Every beacon carries its
   * own idempotencyKey in the body (sendBeacon cannot set headers; a header would also cost a preflight): the browser may
   * deliver it and lose the answer, and the fetch fallback sends it again after a 503 or a network error, with the same
   * key, so the server makes one event of it however often it arrives.
   */
  function send(fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) {
      var value = fields[k];
      if (value !== undefined && value !== null && value !== '') body.append(k, String(value));
    });
    if (!body.has(KEY_FIELD)) body.set(KEY_FIELD, newId());
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return Promise.resolve(true);
    } catch (e) { /* fall back to fetch */ }
    return post(body, BEACON_RETRIES);
  }

  function post(body, retriesLeft) {
    return fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit', mode: 'cors' })
      .then(function (r) {
        if (r.ok) return true;
        if ((r.status === 503 || r.status === 429) && retriesLeft > 0) return later(retryDelay(r)).then(function () { return post(body, retriesLeft - 1); });
        return false;
      }, function () {
        return retriesLeft > 0 ? later(2000).then(function () { return post(body, retriesLeft - 1); }) : false;
      });
  }

  function retryDelay(response) {
    var seconds = parseInt(response.headers.get('Retry-After') || '', 10);
    return (seconds >= 0 && seconds <= 60 ? seconds : 5) * 1000;
  }

  function later(ms) {
    return new Promise(function (resolve) { window.setTimeout(resolve, ms); });
  }

  /**
   * Report an activity of this anonymous visitor: 'page-view' (props.url), 'content-download' (props.contentId, an id
   * from the app's content catalogue, which decides its funnel stage), 'add-to-cart' (props.contentId, the product) or
   * 'webinar-registration' (props.campaign, props.contentId). Events never name a person: the server refuses email
   * and leadId here; the visitor becomes a known lead when they send a form, which carries this visitor id.
   */
  function track(type, props) {
    var fields = context();
    fields.type = type;
    Object.keys(props || {}).forEach(function (k) { fields[k] = props[k]; });
    if (type === 'page-view' && !fields.url) fields.url = window.location.href;
    return send(fields);
  }

  /* Hidden inputs carry the same context with a plain HTML form post. */
  function fillForms() {
    var values = context();
    Object.keys(values).forEach(function (name) {
      var inputs = document.querySelectorAll('input[type="hidden"][name="' + name + '"]');
      for (var i = 0; i < inputs.length; i++) {
        if (!inputs[i].value) inputs[i].value = values[name];
      }
    });
    forEachKeyInput(function (input, slot) {
      var kept = readKey(slot);
      input.value = kept ? kept.key : newId();
    });
  }

  /*
   * The idempotency key of a form: one per form and set of answers. A plain HTML form cannot send a header, so the key
   * rides in a hidden input, and the server derives the event id from the form id and the key. A 503 (or a lost answer)
   * sends the visitor back to the form ("Go back to the form"), and submitting the same answers again must be the same
   * submission: so the key is kept in this tab's sessionStorage and comes back when the page does, for an hour. Changed
   * answers are another submission: the key is renewed when a submit carries answers other than the last ones sent under
   * it (a second newsletter sign-up from the same page with another address is its own submission).
   * Keys are drawn at random per tab and form, and known to nobody else: the server collapses only posts that repeat one.
   */
  function forEachKeyInput(action) {
    var forms = document.querySelectorAll('form');
    for (var i = 0; i < forms.length; i++) {
      var input = keyInput(forms[i]);
      if (input) action(input, keySlot(forms[i], i), forms[i]);
    }
  }

  function keyInput(form) {
    return form.querySelector('input[type="hidden"][name="' + KEY_FIELD + '"]');
  }

  function keySlot(form, index) {
    return 'lf_key|' + window.location.pathname + '|' + (form.getAttribute('action') || '') + '|' + index;
  }

  function readKey(slot) {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(slot) || 'null');
      if (kept && KEY_PATTERN.test(kept.key) && Date.now() - kept.at < KEY_LIFETIME_MS) return kept;
    } catch (e) { /* storage blocked or garbled: a fresh key */ }
    return null;
  }

  function writeKey(slot, kept) {
    try { window.sessionStorage.setItem(slot, JSON.stringify(kept)); } catch (e) { /* the key still goes with this post */ }
  }

  function answers(form) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== KEY_FIELD) parts.push(name + '=' + (typeof value === 'string' ? value : value.name + ':' + value.size));
    });
    return fingerprint(parts.join('&'));
  }

  /*
   * The answers are kept only as a 53-bit hash (cyrb53): enough to tell changed answers from the same ones, and nothing of
   * the visitor's name or address stays in the tab's storage. A collision (about 1 in 9e15) would make two different answers
   * one submission.
   */
  function fingerprint(text) {
    var h1 = 0xdeadbeef, h2 = 0x41c6ce57;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
  }

  /* Capture phase on the document: runs before the page's own submit handlers and before the browser reads the form. */
  function onSubmit(event) {
    var form = event.target;
    if (!form || form.tagName !== 'FORM') return;
    var input = keyInput(form);
    if (!input) return;
    var forms = document.querySelectorAll('form');
    var slot = keySlot(form, Array.prototype.indexOf.call(forms, form));
    var sent = answers(form);
    var kept = readKey(slot);
    if (!KEY_PATTERN.test(input.value) || (kept && kept.key === input.value && kept.answers !== sent)) input.value = newId();
    writeKey(slot, { key: input.value, answers: sent, at: Date.now() });
  }

  window.leadFunctions = { track: track, visitorId: visitorId, fillForms: fillForms };

  document.addEventListener('submit', onSubmit, true);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fillForms);
  else fillForms();

  if (!script || script.getAttribute('data-page-view') !== 'false') track('page-view', { url: window.location.href });
})(window, document);
