// Agent page: sign in as a demo agent, go available, accept or decline offered calls.
import { VccClient, fetchDemoToken } from './protocol.js';
import { params, bindCallView, attempt, clearError } from './ui.js';

const $ = (id) => document.getElementById(id);
const agentSelect = $('agent');
const connectBtn = $('btn-connect');
const availableBtn = $('btn-available');
const stateBadge = $('agent-state');
const status = $('call-status');
const offerBox = $('offer');
const acceptBtn = $('btn-accept');
const declineBtn = $('btn-decline');

const client = new VccClient();
const view = bindCallView(client);

// ?auto=1 accepts the first offer only (a test's one call); ?auto=all accepts every offer.
const auto = params.get('auto');
let autoAcceptsLeft = auto === 'all' ? Infinity : auto === '1' ? 1 : 0;

let offer = null;        // the pending call_offered data
let offerDeadline = 0;
let countdownTimer = 0;
let lastEnd = '';

const user = params.get('user');
if (user) {
  if (![...agentSelect.options].some((o) => o.value === user)) agentSelect.add(new Option(user, user));
  agentSelect.value = user;
}

async function connect() {
  clearError();
  const token = await fetchDemoToken({ user: agentSelect.value });
  await client.connect(token);
}

function toggleConnection() {
  if (client.wsState === 'closed') return attempt(connect).finally(render);
  client.close();
  render();
}

function toggleAvailability() {
  const next = client.agentState === 'offline' || !client.agentState ? 'available' : 'offline';
  return attempt(() => client.setAgentState(next));
}

// ---- offers ----

function showOffer(data) {
  offer = data;
  offerDeadline = data.timeout_ms ? Date.now() + data.timeout_ms : 0;
  $('offer-customer').textContent = data.customer?.name || data.customer?.id || 'a customer';
  $('offer-queue').textContent = data.queue || 'default';
  clearInterval(countdownTimer);
  countdownTimer = setInterval(tick, 250);
  tick();
  offerBox.hidden = false;
  acceptBtn.disabled = declineBtn.disabled = false;
  if (autoAcceptsLeft > 0) {
    autoAcceptsLeft--;
    answerOffer(true);
  }
}

function tick() {
  const left = offerDeadline ? Math.max(0, Math.ceil((offerDeadline - Date.now()) / 1000)) : null;
  $('offer-countdown').textContent = left === null ? 'no time limit' : `${left}s left`;
}

function hideOffer() {
  offer = null;
  clearInterval(countdownTimer);
  offerBox.hidden = true;
}

async function answerOffer(accept) {
  if (!offer) return;
  const callId = offer.call_id;
  acceptBtn.disabled = declineBtn.disabled = true;
  const ok = await attempt(async () => {
    await (accept ? client.accept(callId) : client.decline(callId));
    return true;
  });
  // On failure the offer is most likely gone (withdrawn, taken); the server says so separately.
  if (ok || offer?.call_id === callId) hideOffer();
}

// ---- rendering ----

function render() {
  const open = client.wsState === 'open';
  connectBtn.textContent = client.wsState === 'closed' ? 'Connect' : 'Disconnect';
  agentSelect.disabled = client.wsState !== 'closed';
  const agentState = open ? client.agentState || 'offline' : 'offline';
  stateBadge.textContent = agentState;
  stateBadge.dataset.state = agentState;
  availableBtn.disabled = !open;
  availableBtn.textContent = agentState === 'offline' ? 'Go available' : 'Go offline';
  // A call_state for the offered call, if the server sends one, may narrow what is allowed.
  const actions = client.call?.call_id === offer?.call_id ? client.call?.actions : null;
  if (offer && Array.isArray(actions)) {
    acceptBtn.disabled = !actions.includes('accept');
    declineBtn.disabled = !actions.includes('decline');
  }
  status.textContent = describe(open);
}

function describe(open) {
  if (!open) return client.wsState === 'connecting' ? 'Connecting...' : 'Not connected.';
  const me = client.user?.name || client.user?.id || agentSelect.value;
  if (client.callState === 'connected') return `${me}: in a call.`;
  if (client.callState) return `${me}: call ${client.callState}.`;
  const idle = { available: 'available, waiting for calls.', offline: 'offline.', ringing: 'a call is ringing.', busy: 'busy.' };
  return `${me}: ${idle[client.agentState] || 'offline.'}${lastEnd ? ` ${lastEnd}` : ''}`;
}

client.addEventListener('call_offered', ({ detail }) => { lastEnd = ''; showOffer(detail); render(); });
client.addEventListener('offer_withdrawn', ({ detail }) => {
  if (offer && (!detail.call_id || detail.call_id === offer.call_id)) {
    hideOffer();
    lastEnd = `Offer withdrawn (${(detail.reason || 'withdrawn').replace(/_/g, ' ')}).`;
  }
  render();
});
client.addEventListener('call_ended', ({ detail }) => {
  lastEnd = `Last call ended (${(detail.reason || 'ended').replace(/_/g, ' ')}).`;
  if (offer && offer.call_id === detail.call_id) hideOffer();
});
client.addEventListener('ws_state', ({ detail }) => { if (detail.state === 'closed') hideOffer(); });
for (const type of ['ws_state', 'welcome', 'agent_state', 'call_state', 'call_ended']) {
  client.addEventListener(type, render);
}

$('login-form').addEventListener('submit', (ev) => { ev.preventDefault(); toggleConnection(); });
availableBtn.addEventListener('click', toggleAvailability);
acceptBtn.addEventListener('click', () => answerOffer(true));
declineBtn.addEventListener('click', () => answerOffer(false));

render();
await view.startLocalMedia();
if (user || auto) {
  await attempt(connect);
  render();
  if (auto && client.wsState === 'open') await attempt(() => client.setAgentState('available'));
}
