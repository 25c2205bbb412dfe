/*
 * LeadFunctions tracking snippet.
 *   <script src="https://<your-function-app>/track.js" defer></script>
 * Options (attributes on the script tag):
 *   data-endpoint="https://<app>/api/events"  where events go (default: /api/events next to this script)
 *   data-page-view="false"                    do not report the page view on load
 * It sets a first-party cookie lf_vid (an anonymous visitor id, one year), reports a page view, fills hidden
 * visitorId / pageUrl / referrer / utm_* inputs of forms on the page, and exposes leadFunctions.track(type, props).
 */
(function (window, document) {
  'use strict';

  var COOKIE = 'lf_vid';
  var ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
  var UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
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

  /* URL-encoded so the browser needs no CORS preflight; sendBeacon survives the page being closed. */
  function send(fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) {
      var value = fields[k];
      if (value !== undefined && value !== null && value !== '') body.append(k, String(value));
    });
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) return Promise.resolve(true);
    } catch (e) { /* fall back to fetch */ }
    return fetch(endpoint, { method: 'POST', body: body, keepalive: true, credentials: 'omit', mode: 'cors' })
      .then(function (r) { return r.ok; }, function () { return false; });
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
  }

  window.leadFunctions = { track: track, visitorId: visitorId, fillForms: fillForms };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fillForms);
  else fillForms();

  if (!script || script.getAttribute('data-page-view') !== 'false') track('page-view', { url: window.location.href });
})(window, document);
