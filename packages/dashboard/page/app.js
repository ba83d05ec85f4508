// messagebox dashboard page: plain DOM, no framework. Remote text is only
// ever set through textContent or attribute values, never parsed as HTML.
'use strict';
(() => {
  const path = location.pathname.replace(/index\.html$/, '');
  const base = path.endsWith('/') ? path : path + '/';
  const $ = (id) => document.getElementById(id);
  const state = { token: '', readOnly: true, pollMs: 5000, filter: {}, side: 'outbox', pages: [], next: null, rows: [], matching: 0, detail: null };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  async function api(path, body) {
    const init = { credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['content-type'] = 'application/json';
      init.headers['x-messagebox-csrf'] = state.token;
      init.body = JSON.stringify(body);
    }
    const response = await fetch(base + 'api/' + path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || 'HTTP ' + response.status);
    return data;
  }

  const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();

  function age(ms) {
    if (ms === null || ms === undefined) return '—';
    const s = Math.floor(ms / 1000);
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

  function notice(text, isError) {
    const node = $('notice');
    node.textContent = text;
    node.className = isError ? 'error' : '';
  }

  function sparkline(values, bucketMs) {
    const ns = 'http://www.w3.org/2000/svg';
    const width = 120, height = 24, max = Math.max(1, ...values);
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.setAttribute('data-values', values.join(','));
    const step = values.length > 1 ? width / (values.length - 1) : width;
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', values.map((v, i) => (i * step).toFixed(1) + ',' + (height - 2 - (v / max) * (height - 4)).toFixed(1)).join(' '));
    const title = document.createElementNS(ns, 'title');
    title.textContent = values.join(' · ') + ' per ' + Math.round(bucketMs / 60000) + ' min, oldest first';
    svg.append(title, line);
    return svg;
  }

  function overviewTable(side, report) {
    const finished = side.side === 'outbox' ? 'sent' : 'processed';
    const head = el('tr', {}, ...['type', 'waiting', 'in flight', finished, 'dead', 'oldest waiting', 'attempts (max)', 'throughput, last ' + report.bucketStarts.length + ' min'].map((t) => el('th', { text: t })));
    const row = (counts, type, cls) =>
      el(
        'tr',
        { class: cls || '', 'data-type': type },
        el('td', { text: type }),
        el('td', { class: 'n', 'data-field': 'waiting', text: String(counts.waiting) }),
        el('td', { class: 'n', 'data-field': 'inFlight', text: String(counts.inFlight) }),
        el('td', { class: 'n', 'data-field': 'finished', text: String(counts.finished) }),
        el('td', { class: 'n' + (counts.dead ? ' dead' : ''), 'data-field': 'dead', text: String(counts.dead) }),
        el('td', { 'data-field': 'oldest', text: age(counts.oldestWaitingAgeMs) }),
        el('td', { class: 'n', 'data-field': 'attempts', text: counts.waitingAttempts + ' (' + counts.maxAttempts + ')' }),
        el('td', {}, sparkline(counts.throughput, report.bucketMs)),
      );
    const body = el('tbody', {}, ...side.types.map((t) => row(t, t.type)), row(side, 'all types', 'total'));
    return el('div', { class: 'side', 'data-side': side.side }, el('h2', { text: side.side === 'outbox' ? 'Outbox' : 'Inbox' }), el('table', {}, el('thead', {}, head), body));
  }

  async function refreshOverview() {
    const report = await api('overview');
    const sides = [report.outbox, report.inbox].filter(Boolean);
    $('overview').replaceChildren(...sides.map((side) => overviewTable(side, report)));
  }

  function filterFromForm() {
    const form = new FormData($('filters'));
    return { type: form.get('type').trim(), error: form.get('error').trim(), olderThan: form.get('olderThan').trim() };
  }

  async function loadDead(after) {
    const data = await api('dead?' + query({ side: state.side, ...state.filter, after, limit: 50 }));
    state.rows = data.messages;
    state.next = data.next;
    state.matching = data.matching;
    renderDead();
  }

  function renderDead() {
    const side = state.side;
    const rows = state.rows.map((m) => {
      const box = el('input', { type: 'checkbox', 'aria-label': 'select ' + m.id, onchange: updateButtons });
      box.message = m;
      const open = el('a', { class: 'open', tabindex: '0', text: m.id, onclick: () => openDetail(side, m.id, m.source) });
      return el(
        'tr',
        { 'data-id': m.id },
        el('td', {}, box),
        el('td', {}, open),
        el('td', { text: m.type }),
        el('td', { text: m.source }),
        el('td', { class: 'n', text: String(m.attempts) }),
        el('td', { text: time(side === 'inbox' ? m.receivedAt : m.createdAt) }),
        el('td', { class: 'err', title: m.lastError || '', text: m.lastError || '' }),
      );
    });
    $('dead').tBodies[0].replaceChildren(...rows);
    $('select-all').checked = false;
    $('matching').textContent = state.matching + ' dead ' + side + ' message' + (state.matching === 1 ? '' : 's') + ' match' + (state.matching === 1 ? 'es' : '') + (state.pages.length ? ' · page ' + (state.pages.length + 1) : '');
    $('next-page').disabled = !state.next;
    $('first-page').disabled = state.pages.length === 0;
    updateButtons();
  }

  const selected = () => [...$('dead').tBodies[0].querySelectorAll('input[type=checkbox]:checked')].map((box) => box.message);

  function updateButtons() {
    const count = selected().length;
    $('replay-selected').disabled = count === 0;
    $('replay-selected').textContent = count ? 'Replay selected (' + count + ')' : 'Replay selected';
    $('replay-matching').disabled = state.matching === 0;
  }

  function confirmDialog(text) {
    const dialog = $('confirm');
    $('confirm-text').textContent = text;
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
  }

  async function replay(body, text) {
    if (!(await confirmDialog(text))) return;
    notice('Replaying…');
    const done = await api('replay', body);
    notice('Replayed ' + done.total + ' message' + (done.total === 1 ? '' : 's') + '.');
    state.pages = [];
    await Promise.all([loadDead(), refreshOverview()]);
  }

  async function openDetail(side, id, source) {
    const { message } = await api('message?' + query({ side, id, source: side === 'inbox' ? source : undefined }));
    state.detail = message;
    const fields = [
      ['side', message.side], ['id', message.id], ['source', message.source], ...(message.key !== undefined ? [['key', message.key]] : []), ['type', message.type], ['status', message.status],
      ['attempts', String(message.attempts)], ['created', time(message.createdAt)],
      ...(message.side === 'inbox' ? [['received', time(message.receivedAt)], ['processed', time(message.processedAt)]] : [['sent', time(message.sentAt)]]),
      ['next attempt', message.status === 'pending' || message.status === 'received' ? time(message.availableAt) : '—'], // while an attempt runs: when its lease ends
    ];
    $('detail-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { 'data-field': k, text: v || '—' })]));
    $('detail-error').textContent = message.lastError || '—';
    $('detail-payload').textContent = JSON.stringify(message.payload, null, 2);
    $('detail-headers').textContent = JSON.stringify(message.headers, null, 2);
    $('replay-one').disabled = message.status !== 'dead';
    $('detail').hidden = false;
    $('detail').scrollIntoView({ block: 'nearest' });
  }

  const guard = (fn) => async (event) => {
    if (event && event.preventDefault) event.preventDefault();
    try {
      await fn(event);
    } catch (error) {
      notice(String(error.message || error), true);
    }
  };

  $('filters').addEventListener('submit', guard(async () => {
    state.side = new FormData($('filters')).get('side');
    state.filter = filterFromForm();
    state.pages = [];
    await loadDead();
  }));
  $('next-page').addEventListener('click', guard(async () => {
    state.pages.push(state.next);
    await loadDead(state.next);
  }));
  $('first-page').addEventListener('click', guard(async () => {
    state.pages = [];
    await loadDead();
  }));
  $('select-all').addEventListener('change', () => {
    for (const box of $('dead').tBodies[0].querySelectorAll('input[type=checkbox]')) box.checked = $('select-all').checked;
    updateButtons();
  });
  $('replay-selected').addEventListener('click', guard(async () => {
    const messages = selected().map((m) => ({ side: state.side, id: m.id, source: m.source }));
    await replay({ messages }, 'Replay ' + messages.length + ' selected dead ' + state.side + ' message' + (messages.length === 1 ? '' : 's') + '?');
  }));
  $('replay-matching').addEventListener('click', guard(async () => {
    const filter = { side: state.side, ...state.filter };
    const counts = await api('dead/count?' + query(filter));
    const described = Object.entries(state.filter).filter(([, v]) => v).map(([k, v]) => k + ' = ' + v).join(', ') || 'no filter: every dead message';
    const all = !state.filter.type && !state.filter.error && !state.filter.olderThan;
    await replay({ filter, ...(all ? { all: true } : {}) }, 'Replay ' + counts.total + ' dead ' + state.side + ' message' + (counts.total === 1 ? '' : 's') + ' (' + described + ')?');
  }));
  $('replay-one').addEventListener('click', guard(async () => {
    const m = state.detail;
    await replay({ messages: [{ side: m.side, id: m.id, source: m.source }] }, 'Replay dead ' + m.side + ' message ' + m.id + '?');
    await openDetail(m.side, m.id, m.source);
  }));
  $('close-detail').addEventListener('click', () => ($('detail').hidden = true));
  $('purge').addEventListener('submit', guard(async () => {
    const form = new FormData($('purge'));
    const body = { olderThan: form.get('olderThan').trim(), side: form.get('side') || undefined };
    if (!(await confirmDialog('Delete sent and processed messages that finished more than ' + body.olderThan + ' ago? Dead messages are kept.'))) return;
    const report = await api('purge', body);
    notice('Purged ' + report.total + ' finished message' + (report.total === 1 ? '' : 's') + '.' + (report.warnings.length ? ' ' + report.warnings.join(' ') : ''));
    await refreshOverview();
  }));

  async function tick() {
    const live = $('live');
    try {
      await refreshOverview();
      if (selected().length === 0 && state.pages.length === 0) await loadDead();
      live.textContent = 'live · updated ' + new Date().toLocaleTimeString();
      live.className = 'live';
    } catch (error) {
      live.textContent = 'not updating: ' + (error.message || error);
      live.className = 'live error';
    }
  }

  guard(async () => {
    const session = await api('session');
    state.token = session.csrfToken;
    state.readOnly = session.readOnly;
    state.pollMs = session.pollMs;
    document.body.classList.toggle('read-only', state.readOnly);
    $('mode').hidden = !state.readOnly;
    await tick();
    setInterval(tick, state.pollMs);
  })();
})();
