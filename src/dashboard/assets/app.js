'use strict';
/*
 * The operators' dashboard (docs/operations.md "Dashboard"). Asks for the admin token (kept in sessionStorage,
 * this tab only), then reads `<managementPrefix>/admin/stats` every second and draws each route
 * and upstream: requests/s, p50/p99 with a 5-minute sparkline kept here, errors by code,
 * rate-limit rejections, permits and queue against their limits, and target health. No
 * framework and no build step; the CSP allows nothing but this origin.
 */
(() => {
  const POLL_MS = 1000;
  const HISTORY = 300; // samples: 5 minutes at one a second
  const STALE_MS = 3000;
  const TOKEN_KEY = 'gateway-admin-token';
  const SVG = 'http://www.w3.org/2000/svg';
  const adminBase = document.body.dataset.admin;
  const $ = (id) => document.getElementById(id);

  /** Per "routes:<id>" / "upstreams:<name>": the row's elements and the figures seen before. */
  const rows = new Map();
  let pollTimer = null;
  let lastOk = 0;

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const clock = (iso) => new Date(iso).toLocaleTimeString();
  const fmtRate = (n) => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));
  const fmtMs = (n) => (n === null ? '–' : n >= 100 ? String(Math.round(n)) : n.toFixed(1));

  function setStatus(kind, text) {
    const status = $('status');
    status.className = `status ${kind}`;
    status.textContent = text;
  }

  function showMessage(text) {
    const message = $('message');
    message.hidden = text === null;
    message.textContent = text ?? '';
  }

  function showLogin(reason) {
    stop();
    $('board').hidden = true;
    $('signout').hidden = true;
    $('login').hidden = false;
    showMessage(reason);
    setStatus('', 'not connected');
    $('token').focus();
  }

  function start() {
    $('login').hidden = true;
    $('signout').hidden = false;
    showMessage(null);
    setStatus('', 'connecting…');
    void poll();
  }

  function stop() {
    clearTimeout(pollTimer);
    pollTimer = null;
  }

  /** One request at a time: the next one is due a second after this one began. */
  async function poll() {
    const began = Date.now();
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token === null) return showLogin(null);
    try {
      const res = await fetch(`${adminBase}/stats`, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
      if (res.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        return showLogin('The gateway refused this token (401 Unauthorized). Check the value of GATEWAY_ADMIN_TOKEN and try again.');
      }
      if (!res.ok) throw new Error(`the admin API answered ${res.status} ${res.statusText}`);
      render(await res.json());
      lastOk = Date.now();
      showMessage(null);
      setStatus('live', 'live');
    } catch (error) {
      const since = lastOk ? ` Last figures from ${new Date(lastOk).toLocaleTimeString()}.` : '';
      showMessage(`Cannot read the gateway's figures: ${error instanceof TypeError ? 'the gateway is unreachable' : error.message}. Retrying every second.${since}`);
      setStatus(Date.now() - lastOk > STALE_MS ? 'error' : 'stale', lastOk ? 'stale' : 'unreachable');
    }
    if (sessionStorage.getItem(TOKEN_KEY) !== null) pollTimer = setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - began)));
  }

  function render(stats) {
    $('board').hidden = false;
    $('window').textContent = String(stats.windowSeconds);
    $('updated').textContent = `updated ${clock(stats.at)}`;
    renderTable('routes', stats.routes, stats.at);
    renderTable('upstreams', stats.upstreams, stats.at);
  }

  function renderTable(kind, entries, at) {
    const seen = new Set();
    for (const [name, figures] of Object.entries(entries)) {
      const key = `${kind}:${name}`;
      seen.add(key);
      let row = rows.get(key);
      if (row === undefined) rows.set(key, (row = makeRow(kind, name)));
      updateRow(row, figures, Date.parse(at));
    }
    for (const [key, row] of rows) {
      if (key.startsWith(`${kind}:`) && !seen.has(key)) {
        row.tr.remove();
        rows.delete(key);
      }
    }
    reorder(kind);
  }

  function reorder(kind) {
    const body = $(kind).tBodies[0];
    const ordered = [...rows.values()].filter((row) => row.kind === kind).sort(byChosenOrder);
    for (const row of ordered) body.appendChild(row.tr);
  }

  function byChosenOrder(a, b) {
    const order = $('sort').value;
    if (order === 'saturation' && b.saturation !== a.saturation) return b.saturation - a.saturation;
    if (order === 'rps' && b.rps !== a.rps) return b.rps - a.rps;
    return a.name.localeCompare(b.name);
  }

  function makeRow(kind, name) {
    const tr = el('tr');
    tr.dataset.name = name;
    const cell = (field, className) => {
      const td = el('td', className);
      td.dataset.field = field;
      tr.appendChild(td);
      return td;
    };
    const nameCell = cell('name', 'name');
    nameCell.append(el('strong', '', name), el('small'));
    const rpsCell = cell('rps', 'num');
    const latency = el('div', 'latency');
    cell('latency').appendChild(latency);
    const p50 = el('span');
    p50.dataset.field = 'p50';
    const p99 = el('span');
    p99.dataset.field = 'p99';
    const spark = document.createElementNS(SVG, 'svg');
    spark.setAttribute('class', 'spark');
    spark.setAttribute('preserveAspectRatio', 'none');
    const line50 = document.createElementNS(SVG, 'polyline');
    line50.setAttribute('class', 'p50');
    const line99 = document.createElementNS(SVG, 'polyline');
    spark.append(line50, line99);
    latency.append(p50, ' / ', p99, ' ms', spark);
    const errors = cell('errors');
    const extra = kind === 'routes' ? cell('rateLimited', 'num') : cell('targets');
    const permits = cell('permits', 'permits');
    const bar = el('div', 'bar');
    bar.appendChild(el('i'));
    const permitText = el('div');
    permits.append(bar, permitText);
    return { kind, name, tr, nameCell, rpsCell, p50, p99, spark, line50, line99, errors, extra, bar, permitText, history: [], saturation: 0, rps: 0, previous: null };
  }

  function updateRow(row, f, atMs) {
    row.rps = f.requestsPerSecond;
    row.nameCell.lastChild.textContent = row.kind === 'routes' ? `→ ${f.upstream}` : `${f.inFlight} in flight`;
    row.rpsCell.textContent = fmtRate(f.requestsPerSecond);
    row.p50.textContent = fmtMs(f.p50Ms);
    row.p99.textContent = fmtMs(f.p99Ms);
    row.history.push([f.p50Ms ?? 0, f.p99Ms ?? 0]);
    if (row.history.length > HISTORY) row.history.shift();
    drawSpark(row);
    drawErrors(row.errors, f);
    if (row.kind === 'routes') drawRateLimited(row, f, atMs);
    else drawTargets(row.extra, f.targets);
    drawPermits(row, f);
    row.previous = { at: atMs, byCode: f.byCode };
  }

  function drawSpark(row) {
    const peak = Math.max(1, ...row.history.map(([, p99]) => p99));
    // The axis spans a minute at first, then grows with the history up to its five minutes.
    const span = Math.max(60, row.history.length);
    row.spark.setAttribute('viewBox', `0 0 ${span} 100`);
    const offset = span - row.history.length;
    const points = (i) => row.history.map((sample, x) => `${offset + x},${(100 - (sample[i] / peak) * 96).toFixed(1)}`).join(' ');
    row.line50.setAttribute('points', points(0));
    row.line99.setAttribute('points', points(1));
  }

  /** The gateway's own errors by code, then the answers by status class (the upstream's included). */
  function drawErrors(td, f) {
    const chips = Object.entries(f.byCode).map(([code, n]) => chip(`${code} ×${n}`, 'chip bad', code));
    const classes = { '4xx': 0, '5xx': 0 };
    for (const [status, n] of Object.entries(f.byStatus)) if (Number(status) >= 400) classes[`${String(status)[0]}xx`] += n;
    const statuses = el('div', 'muted', `answered 4xx ${classes['4xx']} · 5xx ${classes['5xx']}`);
    td.replaceChildren(el('div', 'chips'), statuses);
    td.firstChild.append(...(chips.length ? chips : [el('span', 'muted', 'no gateway errors')]));
  }

  function chip(text, className, code) {
    const span = el('span', className, text);
    span.dataset.code = code;
    return span;
  }

  function drawRateLimited(row, f, atMs) {
    const total = f.byCode.rate_limited ?? 0;
    const before = row.previous?.byCode.rate_limited ?? total;
    const seconds = row.previous ? Math.max(1, (atMs - row.previous.at) / 1000) : 1;
    const perSecond = (total - before) / seconds;
    row.extra.dataset.total = String(total);
    row.extra.textContent = perSecond > 0 ? `${total} (${fmtRate(perSecond)}/s)` : String(total);
  }

  function drawTargets(td, targets) {
    const list = el('ul', 'targets');
    for (const t of targets) {
      const since = t.since ? ` since ${clock(t.since)}` : '';
      const text = `${t.url} ${t.healthy ? 'healthy' : 'unhealthy'}${since}${t.reason ? ` (${t.reason})` : ''}`;
      const li = el('li', t.healthy ? '' : 'down', text);
      li.dataset.target = t.url;
      li.dataset.healthy = String(t.healthy);
      list.appendChild(li);
    }
    td.replaceChildren(list);
  }

  /** Share of the limit in use; past 1 when requests queue (the queue is full at 2). */
  function saturationOf(f) {
    if (f.limit === null) return 0;
    const queue = f.queued === 0 ? 0 : f.queueLimit ? f.queued / f.queueLimit : 1;
    return f.permitsInUse / f.limit + queue;
  }

  function drawPermits(row, f) {
    row.saturation = saturationOf(f);
    const share = f.limit === null ? 0 : Math.min(1, f.permitsInUse / f.limit);
    const level = f.queued > 0 || share >= 0.95 ? 'full' : share >= 0.75 ? 'warn' : 'ok';
    row.bar.className = `bar ${f.limit === null ? '' : level}`;
    row.bar.dataset.level = f.limit === null ? 'none' : level;
    row.bar.firstChild.style.width = `${Math.round(share * 100)}%`;
    const queue = `${f.queued} queued${f.queueLimit ? ` of ${f.queueLimit}` : ''}`;
    row.permitText.textContent = f.limit === null ? `${f.permitsInUse} in flight, no limit` : `${f.permitsInUse} / ${f.limit} in use · ${queue}`;
    row.permitText.dataset.inUse = String(f.permitsInUse);
    row.permitText.dataset.queued = String(f.queued);
  }

  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    start();
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(null);
  });
  $('sort').addEventListener('change', () => {
    reorder('routes');
    reorder('upstreams');
  });

  if (sessionStorage.getItem(TOKEN_KEY) === null) showLogin(null);
  else start();
})();
