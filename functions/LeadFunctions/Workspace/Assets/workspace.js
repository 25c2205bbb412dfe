// The LeadFunctions workspace dashboard. Plain script, no framework, no inline code (the page's CSP allows only this file and
// the vendored Chart.js). Every value that comes from a lead is put on screen with textContent / createElement, never as HTML.
// All requests are same-origin: the session (Easy Auth cookie in Azure, the development user locally) goes with them; no keys.
(function () {
  'use strict';

  // Static stage names: the only labels Chart.js is given.
  const STAGES = ['Lead', 'MQL', 'SQL', 'Opportunity', 'Customer', 'Evangelist'];
  const ACTING_ROLES = ['sales', 'admin'];
  const MARKETING_ROLES = ['marketing', 'admin'];
  const PAGE_ROWS = 20;
  const POLL_TRIES = 20;
  const POLL_DELAY_MS = 750;

  const state = { roles: [], lead: null, ledgerNext: null, historyNext: null, queueNext: null, timeline: [], chart: null, calibrationChart: null };

  const byId = (id) => document.getElementById(id);

  /** An element with properties (never innerHTML) and children, strings becoming text nodes. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node[key] = value;
    }
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function say(target, text, isError) {
    const node = byId(target);
    node.textContent = text || '';
    node.classList.toggle('error', Boolean(isError));
  }

  async function api(path, options) {
    const init = Object.assign({ credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } }, options || {});
    if (init.body !== undefined) init.headers = Object.assign({ 'Content-Type': 'application/json' }, init.headers);
    const response = await fetch(path, init);
    let body = null;
    const type = response.headers.get('Content-Type') || '';
    if (type.includes('json')) {
      try { body = await response.json(); } catch (e) { body = null; }
    }
    return { status: response.status, ok: response.ok, body };
  }

  /** A problem-details body as one readable line: title, detail and the fields it names. */
  function problemText(result, fallback) {
    const p = result.body || {};
    const parts = [p.title, p.detail].filter(Boolean);
    if (p.errors) for (const [field, messages] of Object.entries(p.errors)) parts.push(field + ': ' + [].concat(messages).join(' '));
    return parts.length ? parts.join(' — ') : fallback + ' (HTTP ' + result.status + ')';
  }

  /** Paged lists arrive as { items, continuation }; before the paged detail API they were plain arrays. Both are read. */
  function page(value) {
    if (Array.isArray(value)) return { items: value, continuation: null };
    if (value && Array.isArray(value.items)) return { items: value.items, continuation: value.continuation || null };
    return { items: [], continuation: null };
  }

  const hasRole = (roles) => state.roles.some((r) => roles.includes(r));
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
  const number = (n, digits) => (typeof n === 'number' ? n.toFixed(digits === undefined ? 1 : digits) : '');

  function timeLeft(slaDueAt) {
    if (!slaDueAt) return { text: '', overdue: false };
    const minutes = Math.round((new Date(slaDueAt).getTime() - Date.now()) / 60000);
    const span = Math.abs(minutes);
    const text = (span >= 60 ? Math.floor(span / 60) + 'h ' : '') + (span % 60) + 'm';
    return minutes >= 0 ? { text: text + ' left', overdue: false } : { text: 'overdue by ' + text, overdue: true };
  }

  // ---- header: who is signed in, the model version, the nurture backlog for marketing ----

  async function loadIdentity() {
    const me = await api('/api/workspace/me');
    if (me.ok && me.body) {
      state.roles = Array.isArray(me.body.roles) ? me.body.roles.map(String) : [];
      byId('user-name').textContent = me.body.name || me.body.id || 'unknown';
      byId('user-roles').textContent = state.roles.length ? '(' + state.roles.join(', ') + ')' : '(no roles)';
    } else if (me.status === 401) {
      byId('user-name').textContent = 'nobody (sign in)';
    } else {
      // Before the identity endpoint exists the page still reads; acting needs a known role.
      byId('user-name').textContent = 'unknown user';
    }
    byId('nurture-section').hidden = !hasRole(MARKETING_ROLES);
    byId('calibration-section').hidden = !hasRole(MARKETING_ROLES);
    byId('results-section').hidden = !hasRole(MARKETING_ROLES);
  }

  async function loadOverview() {
    const overview = await api('/api/workspace/overview');
    if (!overview.ok || !overview.body) {
      byId('model-version').textContent = 'unavailable';
      return;
    }
    byId('model-version').textContent = overview.body.modelVersion || '';
    const nurture = overview.body.nurture || {};
    const count = (n) => String(n ?? '') + (nurture.atLeast ? '+' : '');
    byId('nurture-due').textContent = count(nurture.due);
    byId('nurture-due-sales').textContent = count(nurture.dueSales);
    byId('nurture-parked').textContent = count(nurture.parked);
  }

  // ---- the funnel ----

  function isoDate(date) {
    return date.toISOString().slice(0, 10);
  }

  async function loadFunnel() {
    const today = new Date();
    const from = new Date(today.getTime() - 30 * 86400000);
    const to = new Date(today.getTime() + 86400000);
    const funnel = await api('/api/funnel?from=' + isoDate(from) + '&to=' + isoDate(to) + '&period=week');
    if (!funnel.ok || !funnel.body) {
      byId('funnel-sla').textContent = 'The funnel is not available (HTTP ' + funnel.status + ').';
      return;
    }
    const stages = Array.isArray(funnel.body.stages) ? funnel.body.stages : [];
    const row = (name) => stages.find((s) => s && s.stage === name) || {};
    const now = STAGES.map((name) => Number(row(name).now) || 0);
    const entries = STAGES.map((name) => Number(row(name).entries) || 0);

    const body = byId('funnel-table').tBodies[0];
    clear(body);
    for (const name of STAGES) {
      const s = row(name);
      body.append(el('tr', {},
        el('th', { scope: 'row' }, name),
        el('td', { class: 'num' }, String(Number(s.now) || 0)),
        el('td', { class: 'num' }, String(Number(s.entries) || 0)),
        el('td', { class: 'num' }, typeof s.conversionToNext === 'number' ? (s.conversionToNext * 100).toFixed(0) + '%' : ''),
        el('td', { class: 'num' }, number(s.medianHoursInStage))));
    }
    const sla = funnel.body.sla || {};
    byId('funnel-sla').textContent = 'SQLs past their SLA: ' + (Number(sla.sqlsPastSla) || 0) +
      (typeof sla.medianMinutesToFirstAction === 'number' ? '; median time to first sales action: ' + sla.medianMinutesToFirstAction.toFixed(0) + ' min' : '');

    drawFunnel(now, entries);
  }

  function drawFunnel(now, entries) {
    if (typeof window.Chart !== 'function') {
      byId('funnel-sla').textContent = 'The chart library did not load.';
      return;
    }
    const data = {
      labels: STAGES,
      datasets: [
        { label: 'In stage now', data: now, backgroundColor: '#2f6fde' },
        { label: 'Entries (last 30 days)', data: entries, backgroundColor: '#9bb9f0' },
      ],
    };
    if (state.chart) {
      state.chart.data = data;
      state.chart.update();
      return;
    }
    state.chart = new window.Chart(byId('funnel-chart'), {
      type: 'bar',
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  // ---- nurture results per programme and step (marketing, admin) ----

  // The JSON names of the counters, in the order the table shows them, with their column headings.
  const RESULT_COLUMNS = [
    ['sent', 'Sent'], ['delivered', 'Delivered'], ['bounced', 'Bounced'], ['opened', 'Opened'], ['humanOpens', 'Human opens'],
    ['clicked', 'Clicked'], ['humanClicks', 'Human clicks'], ['unsubscribed', 'Unsubscribed'], ['goals', 'Goals'],
  ];

  /** One table per programme, a row per step; every id and number goes in as text. */
  async function loadNurtureResults() {
    const section = byId('results-section');
    const box = byId('results-programmes');
    const result = await api('/api/workspace/nurture/results');
    clear(box);
    if (!result.ok || !result.body) {
      say('results-message', problemText(result, 'The nurture results are not available'), true);
      section.dataset.loaded = 'true';
      return;
    }
    const programmes = Array.isArray(result.body.programmes) ? result.body.programmes : [];
    let windowDays = null;
    for (const programme of programmes) {
      const steps = Array.isArray(programme && programme.steps) ? programme.steps : [];
      const body = el('tbody');
      for (const step of steps) {
        if (typeof step.goalWindowDays === 'number') windowDays = step.goalWindowDays;
        body.append(el('tr', {},
          el('th', { scope: 'row' }, String(step.step ?? '')),
          ...RESULT_COLUMNS.map(([key]) => el('td', { class: 'num' }, String(Number(step[key]) || 0)))));
      }
      const table = el('table', { class: 'grid results' },
        el('caption', {}, String(programme.programme ?? '')),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Step'), ...RESULT_COLUMNS.map(([, label]) => el('th', { scope: 'col' }, label)))),
        body);
      table.dataset.programme = String(programme.programme ?? '');
      box.append(table);
    }
    say('results-message', programmes.length === 0
      ? 'No nurture programmes yet.'
      : 'Opened and clicked count e-mails with at least one human open or click; bot hits count nowhere. Goals: e-mails of the step followed by MQL to SQL within '
        + String(windowDays ?? '') + ' days.');
    section.dataset.loaded = 'true';
  }

  // ---- calibration (marketing, admin) ----

  const percent = (n) => (typeof n === 'number' ? (n * 100).toFixed(1) + '%' : '');

  /** "30.0% [21.9%–39.6%] 30/100", or "– 0/0" when there is nothing to divide by. */
  function conversionText(c) {
    if (!c) return '';
    const counts = String(Number(c.count) || 0) + '/' + String(Number(c.of) || 0);
    return typeof c.rate === 'number' ? percent(c.rate) + ' [' + percent(c.low) + '–' + percent(c.high) + '] ' + counts : '– ' + counts;
  }

  function calibrationRows(tableId, rows) {
    const body = byId(tableId).tBodies[0];
    clear(body);
    for (const r of rows) {
      body.append(el('tr', {},
        el('th', { scope: 'row' }, String(r.label ?? '')),
        el('td', { class: 'num' }, String(Number(r.leads) || 0)),
        el('td', { class: 'num' }, String(Number(r.enteredAtMql) || 0)),
        el('td', { class: 'num' }, String(Number(r.enteredAtSql) || 0)),
        el('td', {}, conversionText(r.sql)),
        el('td', {}, conversionText(r.opportunity)),
        el('td', {}, conversionText(r.customer))));
    }
  }

  async function loadCalibration() {
    const section = byId('calibration-section');
    const button = byId('calibration-load');
    delete section.dataset.loaded;
    button.disabled = true;
    byId('calibration-summary').textContent = 'Reading leads…';
    try {
      await showCalibration(await api('/api/workspace/calibration'));
    } finally {
      button.disabled = false;
      section.dataset.loaded = 'true';
    }
  }

  async function showCalibration(result) {
    if (!result.ok || !result.body || !result.body.report) {
      byId('calibration-summary').textContent = problemText(result, 'Calibration is not available');
      return;
    }
    const report = result.body.report;
    const bands = Array.isArray(report.bands) ? report.bands : [];
    calibrationRows('calibration-table', bands);
    calibrationRows('calibration-grades', Array.isArray(report.grades) ? report.grades : []);
    byId('calibration-summary').textContent =
      String(Number(report.leads) || 0) + ' leads first qualified (' + String(Number(report.enteredAtMql) || 0) + ' at MQL, ' +
      String(Number(report.enteredAtSql) || 0) + ' straight to SQL) among ' + String(Number(result.body.leadsScanned) || 0) + ' leads read' +
      (result.body.partial ? '; PARTIAL: the scan stopped at its limit, so this is a sample.' : '.');
    const suggestion = report.suggestion || {};
    byId('calibration-suggestion').textContent = typeof suggestion.mqlBar === 'number'
      ? 'Suggested MQL bar: ' + String(suggestion.mqlBar) + ' — ' + String(suggestion.reason || '')
      : 'Suggested MQL bar: ' + String(suggestion.reason || 'not enough data');
    const drift = byId('calibration-drift');
    clear(drift);
    for (const warning of Array.isArray(report.drift) ? report.drift : []) drift.append(el('li', { class: 'error' }, String(warning.message || '')));
    drawCalibration(bands);
  }

  function drawCalibration(bands) {
    if (typeof window.Chart !== 'function') return;
    const data = {
      labels: bands.map((b) => String(b.label ?? '')),
      datasets: [{
        label: 'MQL to SQL conversion (%)',
        data: bands.map((b) => (b.sql && typeof b.sql.rate === 'number' ? b.sql.rate * 100 : 0)),
        backgroundColor: '#2f6fde',
      }],
    };
    if (state.calibrationChart) {
      state.calibrationChart.data = data;
      state.calibrationChart.update();
      return;
    }
    state.calibrationChart = new window.Chart(byId('calibration-chart'), {
      type: 'bar',
      data,
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, max: 100 } } },
    });
  }

  // ---- the SQL queue ----

  function leadButton(item) {
    return el('button', { type: 'button', class: 'link lead-open', onclick: () => openLead(item.leadId) }, item.name || item.leadId);
  }

  /**
   * After a publish, a listed lead whose points are still of an older model (its re-score has not reached it yet) says so
   * next to its name; a lead on the active model shows nothing. onActiveModel null (the row is gone) is not a claim either way.
   */
  function modelMarker(item) {
    if (item.onActiveModel !== false) return null;
    const points = item.pointsModelVersion === 'mixed' ? 'mixed versions' : String(item.pointsModelVersion || 'an older model');
    const active = String(item.activeModelVersion || 'another version');
    return el('span', {
      class: 'badge model-stale',
      title: 'Not re-scored yet: these points come from ' + (item.pointsModelVersion === 'mixed' ? 'more than one model version' : 'model ' + points) +
        '; the active model is ' + active + '.',
    }, 'scored on ' + points + ', active ' + active);
  }

  /** The first cell of a list row: the lead's name as a button, and the model marker when it has one. */
  function leadCell(item) {
    const marker = modelMarker(item);
    return marker ? el('td', {}, leadButton(item), ' ', marker) : el('td', {}, leadButton(item));
  }

  function queueRow(item) {
    const sla = timeLeft(item.slaDueAt);
    const slaCell = el('td', { class: sla.overdue ? 'overdue sla' : 'sla' }, sla.text);
    if (item.slaDueAt) slaCell.dataset.due = item.slaDueAt;
    const row = el('tr', {},
      leadCell(item),
      el('td', {}, item.company || ''),
      el('td', {}, item.owner || 'unassigned'),
      el('td', { class: 'num' }, number(item.score)),
      el('td', {}, item.fitGrade || ''),
      slaCell);
    row.dataset.leadId = item.leadId;
    return row;
  }

  async function loadQueue(more) {
    // With the model versions: every workspace role sees the model in force (the header), and the queue is read once per load
    // and per "More", never polled, so the 25 lead-row reads this adds stay per page view (docs/dashboard.md).
    let path = '/api/leads?stage=SQL&sort=newest&limit=25&include=modelVersions';
    if (more && state.queueNext) path += '&continuation=' + encodeURIComponent(state.queueNext);
    const result = await api(path);
    const body = byId('queue').tBodies[0];
    if (!more) clear(body);
    if (!result.ok || !result.body) {
      byId('queue-empty').hidden = false;
      byId('queue-empty').textContent = 'The SQL queue is not available (HTTP ' + result.status + ').';
      return;
    }
    const list = page(result.body);
    for (const item of list.items) body.append(queueRow(item));
    state.queueNext = list.continuation;
    byId('queue-more').hidden = !list.continuation;
    byId('queue-empty').hidden = body.rows.length > 0;
  }

  function refreshSlaClocks() {
    for (const cell of document.querySelectorAll('#queue td.sla')) {
      if (!cell.dataset.due) continue;
      const sla = timeLeft(cell.dataset.due);
      cell.textContent = sla.text;
      cell.classList.toggle('overdue', sla.overdue);
    }
  }

  // ---- search ----

  async function search(event) {
    event.preventDefault();
    const email = byId('search-email').value.trim();
    const table = byId('search-results');
    clear(table.tBodies[0]);
    table.hidden = true;
    if (!email) return;
    say('search-message', 'Searching…');
    const result = await api('/api/workspace/search', { method: 'POST', body: JSON.stringify({ email }) });
    if (result.status === 404) return say('search-message', 'No lead has that address.');
    if (!result.ok || !result.body) return say('search-message', problemText(result, 'The search failed'), true);
    const item = result.body;
    const row = el('tr', {},
      leadCell(item),
      el('td', {}, item.company || ''),
      el('td', {}, item.stage || ''),
      el('td', {}, item.owner || 'unassigned'),
      el('td', { class: 'num' }, number(item.score)),
      el('td', {}, item.fitGrade || ''));
    row.dataset.leadId = item.leadId;
    table.tBodies[0].append(row);
    table.hidden = false;
    say('search-message', '');
  }

  // ---- a lead: profile, scores, timeline, actions ----

  function detailPath(leadId, ledgerContinuation, historyContinuation) {
    let path = '/api/leads/' + encodeURIComponent(leadId) + '?ledger=' + PAGE_ROWS + '&history=' + PAGE_ROWS;
    if (ledgerContinuation) path += '&ledgerContinuation=' + encodeURIComponent(ledgerContinuation);
    if (historyContinuation) path += '&historyContinuation=' + encodeURIComponent(historyContinuation);
    return path;
  }

  async function openLead(leadId) {
    say('status', 'Loading the lead…');
    const result = await api(detailPath(leadId));
    if (!result.ok || !result.body) return say('status', result.status === 404 ? 'That lead no longer exists.' : problemText(result, 'The lead could not be loaded'), true);
    say('status', '');
    showLead(result.body);
    byId('lead-section').hidden = false;
    byId('lead-section').scrollIntoView({ block: 'start' });
  }

  function showLead(lead) {
    state.lead = lead;
    const profile = lead.profile || {};
    byId('lead-name').textContent = [profile.firstName, profile.lastName].filter(Boolean).join(' ') || lead.leadId;
    byId('lead-stage').textContent = (lead.stage || '') + (lead.stageChangedAt ? ' since ' + when(lead.stageChangedAt) : '');
    byId('lead-owner').textContent = lead.owner || 'unassigned';
    const engagement = lead.engagement || {};
    byId('lead-engagement').textContent = number(engagement.score) + (engagement.asOf ? ' (as of ' + when(engagement.asOf) + ')' : '');
    const fit = lead.fit || {};
    byId('lead-fit').textContent = (fit.score ?? '') + ' (grade ' + (fit.grade || '?') + ')';
    // Which model the points come from, and whether a re-score under the active one is still to reach this lead.
    const points = lead.pointsModelVersion || lead.modelVersion || '';
    byId('lead-model').textContent = points +
      (lead.onActiveModel === false && lead.activeModelVersion ? ' (active model ' + lead.activeModelVersion + ': not re-scored yet)' : '');
    const scores = Array.isArray(lead.scores) ? lead.scores : [];
    byId('lead-scores-row').hidden = scores.length === 0;
    byId('lead-scores').textContent = scores.map(s => (s.name || '') + ' ' + number(s.score)).join(', ');

    const dl = byId('lead-profile');
    clear(dl);
    for (const [key, value] of Object.entries(profile)) dl.append(el('dt', {}, key), el('dd', {}, value));
    const factors = byId('lead-factors');
    clear(factors);
    const fitFactors = Array.isArray(fit.factors) ? fit.factors : [];
    if (fitFactors.length === 0) factors.append(el('li', { class: 'muted' }, 'none: the profile meets no fit rule'));
    for (const f of fitFactors) {
      factors.append(el('li', {}, (f.ruleId || '') + ': ' + (f.field || '') + ' = ' + (f.value || '') + ' (' + (f.points >= 0 ? '+' : '') + f.points + ')'));
    }

    const ledger = page(lead.ledger);
    const history = page(lead.history);
    state.ledgerNext = ledger.continuation;
    state.historyNext = history.continuation;
    state.timeline = [];
    addTimeline(ledger.items, history.items);
    showActions(lead);
  }

  function addTimeline(ledgerItems, historyItems) {
    for (const l of ledgerItems) state.timeline.push({ kind: 'ledger', at: l.at, row: l });
    for (const h of historyItems) state.timeline.push({ kind: 'stage', at: h.at, row: h });
    state.timeline.sort((a, b) => new Date(b.at).getTime() - new Date(a.at).getTime());
    const body = byId('timeline').tBodies[0];
    clear(body);
    for (const entry of state.timeline) body.append(entry.kind === 'ledger' ? ledgerRow(entry.row) : stageRow(entry.row));
    byId('timeline-more').hidden = !(state.ledgerNext || state.historyNext);
  }

  function ledgerRow(l) {
    // What caused the points, then the model's note on them when it has one.
    let note = (l.eventType || '') + (l.note ? ': ' + l.note : '');
    if (l.folded) note += (note ? ' ' : '') + '(' + l.folded.rows + ' older rows carried forward, ' + when(l.folded.from) + ' – ' + when(l.folded.until) + ')';
    const row = el('tr', { class: 'ledger' },
      el('td', {}, when(l.at)),
      el('td', { class: 'rule' }, (l.rule || '') + (l.score && l.score !== 'engagement' ? ' → ' + l.score : '')),
      el('td', { class: 'num points' }, number(l.points, 2)),
      el('td', { class: 'num points-now' }, number(l.pointsNow, 2)),
      el('td', { class: 'note' }, note));
    if (l.eventId) row.dataset.eventId = l.eventId;
    return row;
  }

  function stageRow(h) {
    const row = el('tr', { class: 'stage' },
      el('td', {}, when(h.at)),
      el('td', { class: 'move' }, (h.from ? h.from + ' → ' : '') + (h.to || '')),
      el('td', {}, ''),
      el('td', {}, ''),
      el('td', { class: 'note' }, (h.reason || '') + (h.causedBy ? ' (by ' + h.causedBy + ')' : '')));
    row.dataset.to = h.to || '';
    if (h.eventId) row.dataset.eventId = h.eventId;
    return row;
  }

  async function olderTimeline() {
    if (!state.lead) return;
    const result = await api(detailPath(state.lead.leadId, state.ledgerNext, state.historyNext));
    if (!result.ok || !result.body) return say('status', problemText(result, 'Older entries could not be loaded'), true);
    // Only the lists that had more are appended; the other came back from its start and is already shown.
    const ledger = state.ledgerNext ? page(result.body.ledger) : { items: [], continuation: null };
    const history = state.historyNext ? page(result.body.history) : { items: [], continuation: null };
    state.ledgerNext = ledger.continuation;
    state.historyNext = history.continuation;
    addTimeline(ledger.items, history.items);
  }

  function showActions(lead) {
    const box = byId('lead-actions');
    box.hidden = !hasRole(ACTING_ROLES);
    if (box.hidden) return;
    const current = STAGES.indexOf(lead.stage);
    const isSql = lead.stage === 'SQL';
    byId('action-accept').disabled = !isSql;
    byId('action-reject').disabled = !isSql;
    for (const option of byId('advance-to').options) {
      const target = STAGES.findIndex((s) => s.toLowerCase() === option.value);
      option.disabled = target <= current;
    }
    const firstOpen = Array.from(byId('advance-to').options).find((o) => !o.disabled);
    if (firstOpen && byId('advance-to').selectedOptions[0]?.disabled) byId('advance-to').value = firstOpen.value;
    byId('action-advance').disabled = !firstOpen;
  }

  async function act(action, toStage, reason) {
    if (!state.lead) return;
    const leadId = state.lead.leadId;
    const buttons = document.querySelectorAll('#lead-actions button');
    buttons.forEach((b) => { b.disabled = true; });
    say('action-message', 'Sending…');
    const body = { action };
    if (toStage) body.toStage = toStage;
    if (reason) body.reason = reason;
    const result = await api('/api/leads/' + encodeURIComponent(leadId) + '/stage', { method: 'POST', body: JSON.stringify(body) });
    if (result.status !== 202) {
      showActions(state.lead);
      return say('action-message', problemText(result, 'The change was refused'), true);
    }
    say('action-message', 'Sent; waiting for the lead to be updated…');
    const eventId = result.body && result.body.eventId;
    const updated = await waitForEvent(leadId, eventId);
    if (state.lead && state.lead.leadId !== leadId) return;
    if (updated) {
      byId('reject-reason').value = '';
      byId('advance-reason').value = '';
      showLead(updated);
      say('action-message', 'Done: the lead is now ' + updated.stage + '.');
    } else {
      showActions(state.lead);
      say('action-message', 'Sent, but not processed yet; reopen the lead in a moment.', true);
    }
  }

  /** The change goes through the event queue; read the lead until its history or ledger shows the event. */
  async function waitForEvent(leadId, eventId) {
    for (let i = 0; i < POLL_TRIES; i++) {
      await new Promise((resolve) => setTimeout(resolve, POLL_DELAY_MS));
      const result = await api(detailPath(leadId));
      if (!result.ok || !result.body) continue;
      const seen = page(result.body.history).items.concat(page(result.body.ledger).items).some((r) => r && r.eventId === eventId);
      if (seen || (!eventId && result.body.stage !== state.lead.stage)) return result.body;
    }
    return null;
  }

  function start() {
    byId('search-form').addEventListener('submit', search);
    byId('calibration-load').addEventListener('click', () => loadCalibration().catch((error) =>
      say('status', 'Loading the calibration failed: ' + (error && error.message ? error.message : 'network error'), true)));
    byId('queue-more').addEventListener('click', () => loadQueue(true));
    byId('timeline-more').addEventListener('click', olderTimeline);
    byId('action-accept').addEventListener('click', () => act('accept'));
    byId('action-reject').addEventListener('click', () => act('reject', byId('reject-to').value, byId('reject-reason').value.trim()));
    byId('action-advance').addEventListener('click', () => act('advance', byId('advance-to').value, byId('advance-reason').value.trim()));
    setInterval(refreshSlaClocks, 30000);

    const failed = (what) => (error) => say('status', what + ' failed: ' + (error && error.message ? error.message : 'network error'), true);
    Promise.allSettled([
      loadIdentity().catch(failed('Reading who you are')).then(() => {
        if (state.lead) showActions(state.lead);
        // A few range reads of the counters, cheap enough for every load (unlike calibration).
        if (hasRole(MARKETING_ROLES)) return loadNurtureResults().catch(failed('Loading the nurture results'));
        return undefined;
      }),
      loadOverview().catch(failed('Loading the overview')),
      loadFunnel().catch(failed('Loading the funnel')),
      loadQueue(false).catch(failed('Loading the SQL queue')),
    ]).then(() => { document.body.dataset.ready = 'true'; });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
