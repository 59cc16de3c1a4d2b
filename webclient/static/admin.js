// Admin page: sign in as the demo admin, read and set the service's video mode over the protocol
// (video_mode, R6), and browse call records and timelines over REST (R25).
import { VccClient, fetchDemoToken, rfc3339 } from './protocol.js';
import { params, bindStatus, attempt, clearError, fetchJSON, setBadge, vccState } from './ui.js';

const $ = (id) => document.getElementById(id);
const adminSelect = $('admin');
const connectBtn = $('btn-connect');
const modeSelect = $('mode-select');

const client = new VccClient();
bindStatus(client);
let token = '';
vccState.records = [];
vccState.timeline = [];
vccState.recordings = [];

const user = params.get('user');
if (user) {
  if (![...adminSelect.options].some((o) => o.value === user)) adminSelect.add(new Option(user, user));
  adminSelect.value = user;
}

async function connect() {
  clearError();
  token = await fetchDemoToken({ user: adminSelect.value });
  await client.connect(token);
  await client.videoMode();
}

function toggleConnection() {
  if (client.wsState === 'closed') return attempt(connect).finally(render);
  client.close();
  token = '';
  render();
}

// ---- call records (REST) ----

async function searchRecords() {
  const url = new URL('/api/calls', location.href);
  for (const key of ['agent', 'queue', 'customer', 'end_reason', 'limit']) {
    const v = $(`f-${key.replace('_', '-')}`).value.trim();
    if (v) url.searchParams.set(key, v);
  }
  for (const key of ['from', 'to']) {
    const v = $(`f-${key}`).value;
    if (v) url.searchParams.set(key, rfc3339(v));
  }
  const body = await fetchJSON(url, token);
  vccState.records = body?.calls || [];
  renderRecords();
}

function fmt(t) {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c);
    else td.textContent = c ?? '';
    tr.append(td);
  }
  return tr;
}

function renderRecords() {
  const list = vccState.records;
  const body = $('records');
  body.replaceChildren();
  for (const c of list) {
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'btn-timeline';
    btn.textContent = 'Timeline';
    btn.addEventListener('click', () => attempt(() => loadTimeline(c.id)));
    const tr = row([c.id, c.queue, fmt(c.started_at), c.ended_at ? fmt(c.ended_at) : 'in progress', c.end_reason,
      c.customer, (c.agents || []).join(', '), (c.modes || []).join(' > '), String(c.tags ?? 0), btn]);
    tr.dataset.call = c.id;
    body.append(tr);
  }
  $('records-table').hidden = list.length === 0;
  $('records-empty').hidden = list.length > 0;
  $('records-empty').textContent = 'No calls match.';
}

async function loadTimeline(id) {
  const body = await fetchJSON(new URL(`/api/calls/${encodeURIComponent(id)}/timeline`, location.href), token);
  vccState.timeline = body?.records || [];
  $('timeline-call').textContent = id;
  const tbody = $('timeline');
  tbody.replaceChildren(...vccState.timeline.map((r) => row([
    String(r.seq), fmt(r.at), r.type, r.actor, r.role,
    Object.entries(r.data || {}).map(([k, v]) => `${k}=${v}`).join(' '),
  ])));
  $('timeline-panel').hidden = false;
  await loadRecordings(id);
}

// R26: a call's recordings, each downloaded with the bearer token (a plain link could not carry it).
async function loadRecordings(id) {
  const body = await fetchJSON(new URL(`/api/calls/${encodeURIComponent(id)}/recordings`, location.href), token);
  const list = body?.recordings || [];
  vccState.recordings = list;
  $('recordings').replaceChildren(...list.map((r) => {
    const li = document.createElement('li');
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'btn-recording';
    btn.textContent = `Download ${r.file}`;
    btn.addEventListener('click', () => attempt(() => download(r)));
    li.append(btn, ` ${r.media} call, ${Math.round((r.size || 0) / 1024)} KiB${r.tags?.length ? `, tags: ${r.tags.join('; ')}` : ''}`);
    return li;
  }));
  $('recordings-empty').hidden = list.length > 0;
}

async function download(r) {
  const res = await fetch(new URL(r.url, location.href), { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw Object.assign(new Error(`download failed: HTTP ${res.status}`), { code: `http_${res.status}` });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = r.file.replaceAll('/', '-');
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ---- rendering ----

function render() {
  const open = client.wsState === 'open';
  connectBtn.textContent = client.wsState === 'closed' ? 'Connect' : 'Disconnect';
  adminSelect.disabled = client.wsState !== 'closed';
  $('btn-mode').disabled = $('btn-mode-reload').disabled = !open;
  $('btn-records').disabled = !token;
  const mode = client.currentVideoMode;
  $('mode-current').textContent = mode || 'unknown';
  setBadge($('mode-badge'), mode ? `mode ${mode}` : 'mode ?');
  if (mode && document.activeElement !== modeSelect) modeSelect.value = mode;
  const me = client.user?.name || client.user?.id || adminSelect.value;
  $('status').textContent = open ? `${me}: connected.` : client.wsState === 'connecting' ? 'Connecting...' : 'Not connected.';
}

for (const type of ['ws_state', 'welcome', 'video_mode']) client.addEventListener(type, render);

$('login-form').addEventListener('submit', (ev) => { ev.preventDefault(); toggleConnection(); });
$('mode-form').addEventListener('submit', (ev) => { ev.preventDefault(); attempt(() => client.videoMode(modeSelect.value)); });
$('btn-mode-reload').addEventListener('click', () => attempt(() => client.videoMode()));
$('records-form').addEventListener('submit', (ev) => { ev.preventDefault(); attempt(searchRecords); });

render();
if (user || params.get('auto')) {
  await attempt(connect);
  render();
  if (token) await attempt(searchRecords);
}
