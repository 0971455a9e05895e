// The inspector's page: a live list fed by Server-Sent Events, an entry opened from the JSON
// API, replays, and the build history. Everything from the server goes in as text, never as HTML.
'use strict';

(() => {
  const size = Number(document.body.dataset.size) || 500;
  const rows = new Map(); // id → {sum, tr}
  const state = {selected: 0, builds: []};

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids.flat()) if (c !== undefined && c !== null && c !== false) e.append(c);
    return e;
  }
  const $ = (s) => document.querySelector(s);

  const ms = (ns) => (ns / 1e6).toFixed(2) + ' ms';
  const took = (m) => m < 1000 ? m.toFixed(1) + ' ms' : (m / 1000).toFixed(2) + ' s';
  const clock = (t) => {
    const d = new Date(t);
    return d.toLocaleTimeString([], {hour12: false}) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  };
  const pretty = (text) => {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
  };
  function bodyText(b) {
    if (!b || (!b.text && !b.size)) return '';
    let t = b.base64 ? '(binary, base64) ' + b.text : b.text;
    if (b.truncated) t += '\n… cut at ' + (b.base64 ? 'the limit' : b.text.length + ' chars') + ' of ' + (b.size < 0 ? 'more' : b.size) + ' bytes';
    return t;
  }
  function headerLines(hdr) {
    return Object.keys(hdr || {}).sort().flatMap((k) => hdr[k].map((v) => k + ': ' + v));
  }

  // ---- the list -------------------------------------------------------------------------

  function statusClass(s) {
    if (s.error) return 'error';
    if (!s.status) return '';
    return 's' + String(s.status)[0] + 'xx';
  }

  function matches(s) {
    const fn = $('#f-function').value, route = $('#f-route').value, st = $('#f-status').value;
    if (fn && s.function !== fn) return false;
    if (route && s.route !== route) return false;
    if (st === 'error') return !!s.error;
    if (st && String(s.status || '')[0] !== st) return false;
    return true;
  }

  function addOption(select, value) {
    if (!value || [...select.options].some((o) => o.value === value)) return;
    select.append(h('option', {value, text: value}));
  }

  function rowFor(s) {
    const tr = h('tr', {
      'data-id': s.id, 'data-path': s.path || '', 'data-function': s.function || '',
      'data-status': s.status || '', class: [statusClass(s), s.pending ? 'pending' : '', s.id === state.selected ? 'selected' : ''].join(' ').trim(),
      onclick: () => select(s.id),
    },
    h('td', {class: 'time', text: clock(s.time).slice(0, 8), title: clock(s.time)}),
    h('td', {class: 'method'}, s.method || 'invoke',
      s.replayOf ? h('span', {class: 'badge replay', text: '↻', title: 'replay of #' + s.replayOf}) : null),
    h('td', {class: 'path', text: s.path || '—', title: s.path || ''}),
    h('td', {class: 'route', text: s.route || '', title: s.route || ''}),
    h('td', {class: 'function', text: s.function || ''}),
    h('td', {class: 'status', title: s.error || ''}, s.pending ? '…' : String(s.status || ''),
      s.error ? h('span', {class: 'badge err', text: s.error}) : null),
    h('td', {class: 'duration', text: s.pending ? '' : took(s.durationMs)}),
    h('td', {class: 'start'}, s.start ? h('span', {class: 'badge ' + s.start, text: s.start}) : null));
    tr.hidden = !matches(s);
    return tr;
  }

  function upsert(s) {
    const tbody = $('#entries tbody');
    const old = rows.get(s.id);
    const tr = rowFor(s);
    if (old) {
      old.tr.replaceWith(tr);
    } else {
      // Ids grow: a new entry goes on top, unless it is older than the top one (a snapshot).
      const first = tbody.firstElementChild;
      if (!first || Number(first.dataset.id) < s.id) tbody.prepend(tr); else tbody.append(tr);
    }
    rows.set(s.id, {sum: s, tr});
    addOption($('#f-function'), s.function);
    addOption($('#f-route'), s.route);
    // The server keeps the last `size`; so does the page.
    while (rows.size > size) {
      const oldest = Math.min(...rows.keys());
      rows.get(oldest).tr.remove();
      rows.delete(oldest);
    }
    counts();
    if (s.id === state.selected && old && (old.sum.pending !== s.pending || old.sum.status !== s.status)) {
      select(s.id); // it finished while open: show the answer
    }
  }

  function counts() {
    $('#count').textContent = rows.size ? String(rows.size) : '';
    $('#empty').hidden = rows.size > 0;
  }

  function refilter() {
    for (const {sum, tr} of rows.values()) tr.hidden = !matches(sum);
  }

  function clearList() {
    rows.clear();
    $('#entries tbody').replaceChildren();
    counts();
  }

  // ---- one entry ------------------------------------------------------------------------

  async function select(id) {
    state.selected = id;
    for (const {sum, tr} of rows.values()) tr.classList.toggle('selected', sum.id === id);
    const resp = await fetch('/api/entries/' + id);
    if (state.selected !== id) return;
    if (!resp.ok) {
      $('#detail').replaceChildren(h('p', {class: 'placeholder', text: 'Entry #' + id + ' is gone (cleared or pushed out).'}));
      return;
    }
    renderDetail(await resp.json());
  }

  function panel(title, cls, ...kids) {
    return h('section', {class: 'panel ' + cls}, h('h3', {text: title}), ...kids);
  }

  function requestText(q) {
    const lines = [q.method + ' ' + q.uri + ' ' + q.proto, 'Host: ' + q.host, ...headerLines(q.header)];
    if (q.headerTruncated) lines.push('… more headers cut');
    return lines.join('\n') + '\n\n' + bodyText(q.body);
  }

  function responseText(p) {
    if (!p.status) return '(no response: the client went away)';
    const lines = ['HTTP ' + p.status, ...headerLines(p.header)];
    if (p.headerTruncated) lines.push('… more headers cut');
    return lines.join('\n') + '\n\n' + pretty(bodyText(p.body));
  }

  function logView(inv) {
    const lines = (inv.log.text || '').split('\n').filter((l) => l !== '');
    return h('pre', {class: 'log'}, lines.map((l) => h('div', {
      class: /^(START|END|REPORT) RequestId:/.test(l) ? 'platform' : 'out', text: l,
    })), inv.log.truncated ? h('div', {class: 'cut', text: '… log cut at ' + inv.log.text.length + ' of ' + inv.log.size + ' bytes'}) : null);
  }

  function figures(inv) {
    const r = inv.report || {};
    const rows = [['Duration', ms(r.Duration || 0)], ['Billed duration', (r.BilledMS || 0) + ' ms'],
      ['Memory size', (r.MemoryMB || 0) + ' MB'], ['Max memory used', (r.MaxMemoryMB || 0) + ' MB']];
    if (r.InitDuration) rows.push(['Init duration', ms(r.InitDuration)]);
    return h('table', {class: 'figures'}, rows.map(([k, v]) => h('tr', {}, h('th', {text: k}), h('td', {text: v}))));
  }

  function invocationView(d, inv, i) {
    const title = 'Invocation' + (d.invocations.length > 1 ? ' ' + (i + 1) : '') + ': ' + inv.function +
      (inv.requestId ? ' · ' + inv.requestId : '');
    const save = inv.event.truncated
      ? h('span', {class: 'hint', text: 'event cut: cannot be saved'})
      : h('a', {class: 'button', id: i === 0 ? 'save-event' : null, href: '/api/entries/' + d.id + '/invocations/' + i + '/event',
        download: 'event-' + inv.function + '-' + d.id + '.json', text: 'Save event'});
    return h('div', {class: 'invocation'},
      h('h2', {}, title, ' ', h('span', {class: 'badge ' + (inv.cold ? 'cold' : 'warm'), text: inv.cold ? 'cold start' : 'warm'})),
      h('div', {class: 'grid'},
        panel('Event', 'event', save, h('pre', {id: i === 0 ? 'detail-event' : null, text: pretty(bodyText(inv.event))})),
        panel('Function result', 'result',
          inv.functionError ? h('p', {class: 'badge err', text: inv.functionError}) : null,
          inv.error ? h('pre', {class: 'error-text', text: inv.error}) : null,
          h('pre', {id: i === 0 ? 'detail-result' : null, text: pretty(bodyText(inv.result)) || '(none)'})),
        panel('Log', 'log-panel', h('div', {id: i === 0 ? 'detail-log' : null}, logView(inv)), figures(inv))));
  }

  function replayForm(d) {
    const q = d.request;
    const method = h('input', {id: 'replay-method', value: q.method, size: 8});
    const uri = h('input', {id: 'replay-uri', value: q.uri, size: 40});
    const headers = h('textarea', {id: 'replay-headers', rows: 5});
    headers.value = headerLines(q.header).join('\n');
    const body = h('textarea', {id: 'replay-body', rows: 5});
    body.value = q.body.text || '';
    const out = h('div', {id: 'replay-result'});
    const send = async (edited) => {
      out.replaceChildren(h('p', {class: 'hint', text: 'sending…'}));
      let payload = '';
      if (edited) {
        const header = {};
        for (const line of headers.value.split('\n')) {
          const i = line.indexOf(':');
          if (i <= 0) continue;
          const k = line.slice(0, i).trim();
          (header[k] = header[k] || []).push(line.slice(i + 1).trim());
        }
        payload = JSON.stringify({method: method.value.trim(), uri: uri.value.trim(), header, body: body.value, base64: !!q.body.base64});
      }
      const resp = await fetch('/api/entries/' + d.id + '/replay', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: payload});
      const got = await resp.json();
      if (!resp.ok) {
        out.replaceChildren(h('pre', {class: 'error-text', text: got.error}));
        return;
      }
      out.replaceChildren(compare(d, got));
    };
    return panel('Replay', 'replay',
      h('div', {class: 'form'},
        h('label', {}, 'Method ', method), h('label', {}, 'Path ', uri),
        h('label', {class: 'wide'}, 'Headers', headers), h('label', {class: 'wide'}, 'Body', body),
        h('div', {class: 'actions'},
          h('button', {id: 'replay-send', type: 'button', onclick: () => send(true), text: 'Send edited'}),
          h('button', {id: 'replay-as-is', type: 'button', onclick: () => send(false), text: 'Replay as is', disabled: q.body.truncated}))),
      out);
  }

  function compare(before, after) {
    const col = (label, d) => h('div', {class: 'col'},
      h('h4', {}, label + ' #' + d.id + ' ', h('span', {class: 'badge ' + statusClass(d.summary), text: String(d.response ? d.response.status : '')})),
      h('pre', {class: 'response', text: d.response ? responseText(d.response) : ''}),
      d.invocations.length ? h('pre', {class: 'result', text: 'function result: ' + pretty(bodyText(d.invocations[0].result))}) : null,
      h('p', {class: 'hint', text: d.summary.durationMs.toFixed(1) + ' ms' + (d.summary.start ? ', ' + d.summary.start : '')}),
      h('button', {type: 'button', onclick: () => select(d.id), text: 'Open #' + d.id}));
    return h('div', {class: 'compare'}, col('Before', before), col('After', after));
  }

  async function copyCurl(text, button) {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Select it below';
    }
    setTimeout(() => { button.textContent = 'Copy as curl'; }, 1500);
  }

  function renderDetail(d) {
    const s = d.summary;
    const head = h('div', {class: 'head'},
      h('h2', {},
        d.request ? d.request.method + ' ' + d.request.uri : 'invoke ' + (d.function || ''),
        ' → ', h('span', {id: 'detail-status', class: 'badge ' + statusClass(s), text: s.pending ? 'pending' : String(s.status || (s.error ? 'failed' : 'done'))}),
        s.error ? h('span', {class: 'badge err', text: s.error}) : null,
        s.start ? h('span', {class: 'badge ' + s.start, text: s.start}) : null),
      h('p', {class: 'meta', text: [
        '#' + d.id, clock(d.time), d.front, d.function && 'function ' + d.function, d.route && 'route ' + d.route,
        d.requestId && 'API request id ' + d.requestId, s.durationMs.toFixed(2) + ' ms',
        d.replayOf && 'replay of #' + d.replayOf, d.droppedInvocations && d.droppedInvocations + ' more invocations not kept',
      ].filter(Boolean).join(' · ')}));
    const parts = [head];
    if (d.request) {
      const curl = h('pre', {id: 'detail-curl', class: 'curl', text: d.curl});
      const copy = h('button', {id: 'copy-curl', type: 'button', text: 'Copy as curl'});
      copy.addEventListener('click', () => copyCurl(d.curl, copy));
      parts.push(h('div', {class: 'grid'},
        panel('HTTP request (as received)', 'request', copy, h('pre', {id: 'detail-request', text: requestText(d.request)}),
          h('details', {}, h('summary', {text: 'curl'}), curl)),
        panel('HTTP response (as sent)', 'response', h('pre', {id: 'detail-response', text: d.response ? responseText(d.response) : 'pending…'}))));
    }
    if (!d.invocations.length && !s.pending) {
      parts.push(h('p', {class: 'hint', text: 'No function was invoked for this request.'}));
    }
    d.invocations.forEach((inv, i) => parts.push(invocationView(d, inv, i)));
    if (d.request && !s.pending) parts.push(replayForm(d));
    $('#detail').replaceChildren(...parts);
  }

  // ---- builds ---------------------------------------------------------------------------

  function buildView(b) {
    const kind = b.initial ? 'initial' : 'reload';
    const failed = (b.failed || []).length > 0 || !!b.problem;
    const what = b.initial ? 'initial build' : 'reload: ' + ((b.changed || []).join(', ') || 'changes');
    const list = (label, names, cls) => (names || []).length ? h('span', {class: 'badge ' + cls, text: label + ' ' + names.join(', ')}) : null;
    return h('li', {class: 'build ' + (failed ? 'failed' : 'ok'), 'data-kind': kind, 'data-id': b.id},
      h('div', {class: 'line'},
        h('span', {class: 'time', text: clock(b.time)}), h('strong', {text: what}),
        list('rebuilt', b.rebuilt, 'ok'), list('build failed', b.failed, 'err'),
        list('restarted', b.restarted, 'warm'), list('removed', b.removed, 'warm'),
        b.routes ? h('span', {class: 'badge', text: b.routes + ' routes'}) : null,
        h('span', {class: 'hint', text: 'built in ' + ms(b.buildTime) + ', swapped in ' + ms(b.swapTime)})),
      b.problem ? h('pre', {class: 'error-text', text: b.problem}) : null,
      Object.keys(b.errors || {}).sort().map((f) => h('div', {class: 'compile-error'},
        h('h4', {text: f + ': compiler output'}), h('pre', {class: 'error-text', text: b.errors[f]}))));
  }

  function renderBuilds() {
    $('#builds').replaceChildren(...state.builds.map(buildView));
    $('#no-builds').hidden = state.builds.length > 0;
    const failed = state.builds.length && ((state.builds[0].failed || []).length || state.builds[0].problem);
    $('#build-count').textContent = state.builds.length ? String(state.builds.length) : '';
    $('#tab-builds').classList.toggle('failing', !!failed);
  }

  // ---- the stream -----------------------------------------------------------------------

  function connect() {
    const es = new EventSource('/api/stream');
    const conn = $('#conn');
    es.addEventListener('snapshot', (ev) => {
      const snap = JSON.parse(ev.data);
      clearList();
      // Oldest first, so that each goes on top of the one before.
      for (const s of snap.entries.slice().reverse()) upsert(s);
      state.builds = snap.builds;
      renderBuilds();
      conn.textContent = 'live';
      conn.className = 'conn live';
    });
    es.addEventListener('entry', (ev) => upsert(JSON.parse(ev.data)));
    es.addEventListener('build', (ev) => {
      state.builds.unshift(JSON.parse(ev.data));
      renderBuilds();
    });
    es.addEventListener('clear', () => clearList());
    es.onerror = () => {
      conn.textContent = 'reconnecting…';
      conn.className = 'conn down';
    };
  }

  // ---- controls -------------------------------------------------------------------------

  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => {
      for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab);
      $('#requests-view').hidden = tab.dataset.tab !== 'requests';
      $('#builds-view').hidden = tab.dataset.tab !== 'builds';
    });
  }
  for (const id of ['#f-function', '#f-route', '#f-status']) $(id).addEventListener('change', refilter);
  $('#clear').addEventListener('click', async () => {
    await fetch('/api/entries', {method: 'DELETE'});
    state.selected = 0;
    $('#detail').replaceChildren(h('p', {class: 'placeholder', text: 'Select a request to see it.'}));
  });
  counts();
  connect();
})();
