// Supervisor page: sign in as a demo supervisor, list the calls in progress, monitor one silently or
// barge in (R23, R24), and watch it. Agents see the supervisor in their call state; customers never do.
import { VccClient, fetchDemoToken } from './protocol.js';
import { params, bindCallView, attempt, clearError, setBadge, vccState } from './ui.js';

const $ = (id) => document.getElementById(id);
const supSelect = $('supervisor');
const connectBtn = $('btn-connect');
const refreshBtn = $('btn-refresh');
const silentBtn = $('btn-silent');
const bargeBtn = $('btn-barge');
const status = $('status');

const client = new VccClient();
let monitoring = null;   // {callId, barge} once the server acknowledged
let busy = false;        // a monitor request is out
let lastEnd = '';

const view = bindCallView(client, { canHangup: () => !!monitoring || !!client.callId, onHangup: () => stop() });
vccState.monitoring = null;

const user = params.get('user');
if (user) {
  if (![...supSelect.options].some((o) => o.value === user)) supSelect.add(new Option(user, user));
  supSelect.value = user;
}

async function connect() {
  clearError();
  const token = await fetchDemoToken({ user: supSelect.value });
  await client.connect(token);
  await client.activeCalls();
}

function toggleConnection() {
  if (client.wsState === 'closed') return attempt(connect).finally(render);
  client.close();
  render();
}

function setMonitoring(m) {
  monitoring = m;
  vccState.monitoring = m;
  render();
}

// Barging in means being seen and heard: the camera and microphone are asked for only then.
async function ensureLocalMedia() {
  if (!client.localStream) await view.startLocalMedia();
}

async function monitor(callId, barge) {
  if (busy) return;
  busy = true;
  render();
  try {
    await attempt(async () => {
      if (barge) await ensureLocalMedia();
      lastEnd = '';
      await client.monitor(callId, barge);
      setMonitoring({ callId, barge });
    });
  } finally {
    busy = false;
    render();
  }
}

async function stop() {
  await client.hangup();
  setMonitoring(null);
  await client.activeCalls();
}

// ---- rendering ----

function renderCalls() {
  const body = $('calls');
  const calls = client.activeCallList || [];
  body.replaceChildren();
  for (const c of calls) {
    const tr = document.createElement('tr');
    tr.dataset.call = c.call_id;
    const watching = monitoring?.callId === c.call_id;
    if (watching) tr.className = 'current';
    const cells = [
      c.call_id, c.queue || '', c.customer?.name || c.customer?.id || '',
      (c.agents || []).join(', ') || '-',
      c.waiting ? 'waiting' : watching ? (monitoring.barge ? 'barged in' : 'monitoring') : 'talking',
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const td = document.createElement('td');
    const other = !!monitoring && !watching;
    const mk = (label, cls, barge) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = cls;
      b.textContent = label;
      b.disabled = busy || other || c.waiting || (watching && monitoring.barge === barge);
      b.title = other ? 'Stop monitoring the current call first.' : c.waiting ? 'The call is waiting in the queue: no agent to monitor yet.'
        : watching && monitoring.barge === barge ? 'Already doing that.' : '';
      b.addEventListener('click', () => monitor(c.call_id, barge));
      return b;
    };
    td.append(mk('Monitor', 'btn-monitor', false), ' ', mk('Barge in', 'btn-barge-row', true));
    tr.append(td);
    body.append(tr);
  }
  $('calls-empty').hidden = calls.length > 0;
  $('calls-table').hidden = calls.length === 0;
}

function render() {
  const open = client.wsState === 'open';
  connectBtn.textContent = client.wsState === 'closed' ? 'Connect' : 'Disconnect';
  supSelect.disabled = client.wsState !== 'closed';
  refreshBtn.disabled = !open;
  silentBtn.disabled = !open || busy || !monitoring || !monitoring.barge;
  bargeBtn.disabled = !open || busy || !monitoring || monitoring.barge;
  silentBtn.title = !monitoring ? 'Monitor a call first.' : '';
  bargeBtn.title = !monitoring ? 'Monitor a call first.' : '';
  const mode = monitoring ? (monitoring.barge ? 'barged in' : 'monitoring') : 'idle';
  setBadge($('monitor-state'), mode);
  const info = $('call-info');
  const call = client.call;
  info.textContent = monitoring
    ? `(${monitoring.callId}${call?.queue ? `, queue ${call.queue}` : ''}${call?.media ? `, ${call.media.toUpperCase()}` : ''}${call?.conference ? ', conference' : ''}${call?.wrapup_assist ? ', wrap-up assist (R14)' : ''})`
    : '(not monitoring)';
  status.textContent = describe(open);
  renderCalls();
}

function describe(open) {
  if (!open) return client.wsState === 'connecting' ? 'Connecting...' : 'Not connected.';
  const me = client.user?.name || client.user?.id || supSelect.value;
  if (monitoring) {
    return monitoring.barge
      ? `${me}: barged in on ${monitoring.callId}: the parties see and hear you.`
      : `${me}: monitoring ${monitoring.callId} silently: nobody sees or hears you.`;
  }
  return `${me}: not monitoring.${lastEnd ? ` ${lastEnd}` : ''}`;
}

// R24: the monitored call ended, or the monitored agent left with no agent remaining.
client.addEventListener('call_ended', ({ detail }) => {
  if (monitoring && (!detail.call_id || detail.call_id === monitoring.callId)) {
    lastEnd = `Monitoring ended (${(detail.reason || 'ended').replace(/_/g, ' ')}).`;
    setMonitoring(null);
    attempt(() => client.activeCalls());
  }
});
client.addEventListener('ws_state', ({ detail }) => { if (detail.state === 'closed') setMonitoring(null); });
for (const type of ['ws_state', 'welcome', 'call_state', 'active_calls', 'pc_state']) {
  client.addEventListener(type, render);
}

$('login-form').addEventListener('submit', (ev) => { ev.preventDefault(); toggleConnection(); });
refreshBtn.addEventListener('click', () => attempt(() => client.activeCalls()));
silentBtn.addEventListener('click', () => monitoring && monitor(monitoring.callId, false));
bargeBtn.addEventListener('click', () => monitoring && monitor(monitoring.callId, true));

render();
if (user || params.get('auto')) {
  await attempt(connect);
  render();
}
