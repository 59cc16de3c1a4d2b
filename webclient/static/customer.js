// Customer page: a guest token, a place in the default queue, then a 1:1 call with an agent.
import { VccClient, fetchDemoToken } from './protocol.js';
import { params, bindCallView, bindLayoutPicker, blockedReason, attempt, clearError } from './ui.js';

const $ = (id) => document.getElementById(id);
const nameInput = $('name');
const callBtn = $('btn-call');
const status = $('call-status');

const client = new VccClient();
const view = bindCallView(client);
let lastEnd = '';

if (params.get('name')) nameInput.value = params.get('name');

// The queue list is a convenience: without it (or with ?queue=) the default or given queue is used.
async function loadQueues() {
  const select = $('queue');
  try {
    const res = await fetch('/api/queues', { cache: 'no-store' });
    const names = res.ok ? (await res.json()).queues : null;
    if (!Array.isArray(names) || names.length < 2 || params.get('queue')) return;
    for (const n of names) select.add(new Option(n, n));
    select.hidden = select.labels[0].hidden = false;
  } catch { /* offline or an older server: keep the default queue */ }
}

async function connect() {
  const token = await fetchDemoToken({ role: 'customer', name: nameInput.value.trim() || 'Guest' });
  await client.connect(token);
}

// Connect on demand: the guest identity carries the name typed at the moment of calling.
async function callAnAgent() {
  clearError();
  lastEnd = '';
  if (client.wsState !== 'open') await connect();
  await client.join(params.get('queue') || $('queue').value || undefined);
}

// Screen sharing (R19, R20): enabled when the server lists it; a refusal is shown with its code.
const shareBtn = $('btn-screenshare');
const sharing = () => client.screenSharing || (!!client.call?.screen && client.call.screen === client.user?.id);
shareBtn.addEventListener('click', () => attempt(() => client.screenshare(!sharing())));

function renderShare() {
  const on = sharing();
  const allowed = !!client.callState && (client.call?.actions || []).includes('screenshare');
  shareBtn.disabled = !(allowed || client.screenSharing);
  shareBtn.textContent = on ? 'Stop sharing' : 'Share screen';
  shareBtn.setAttribute('aria-pressed', String(on));
  const noVideo = (client.call?.parties || []).some((p) => p.video === false);
  shareBtn.title = !shareBtn.disabled ? '' : !client.callState ? 'Not in a call.'
    : blockedReason(client.call, 'screenshare') || (noVideo ? 'R19: screen sharing needs every party\'s video on.' : 'Not allowed now.');
}

function render() {
  renderShare();
  const connected = client.wsState === 'open';
  nameInput.disabled = connected;
  $('queue').disabled = !!client.callState;
  callBtn.disabled = !!client.callState || client.wsState === 'connecting';
  status.textContent = describe(connected);
}

function describe(connected) {
  switch (client.callState) {
    case 'queued':
      return client.queuePosition
        ? `Waiting for an agent: position ${client.queuePosition} in the queue.`
        : 'Waiting for an agent.';
    case 'ringing': return 'An agent is being offered your call.';
    case 'connected': {
      const me = client.call?.parties?.find((p) => p.id === client.user?.id);
      if (me?.held) return 'On hold: the agent will be back with you shortly.';
      const n = client.call?.parties?.length || 0;
      return n > 2 ? `Connected (${n} parties).` : 'Connected.';
    }
  }
  if (lastEnd) return lastEnd;
  return connected ? `Connected as ${client.user?.name || 'guest'}. Press "Call an agent".` : 'Not connected.';
}

client.addEventListener('call_ended', ({ detail }) => {
  lastEnd = `Call ended (${(detail.reason || 'ended').replace(/_/g, ' ')}).`;
});
for (const type of ['ws_state', 'welcome', 'call_state', 'call_ended', 'queue_position', 'screen_share']) {
  client.addEventListener(type, render);
}

$('call-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  attempt(callAnAgent).finally(render);
});

bindLayoutPicker(client);  // R21: the #layout select, shown in MCU calls

render();
loadQueues();
await view.startLocalMedia();
if (params.get('auto') === '1') attempt(callAnAgent).finally(render);
