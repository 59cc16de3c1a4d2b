// Agent page: sign in as a demo agent, go available, accept or decline offered calls, and run the
// call with the contact-center controls (consult, conference, transfer, hold, record, share...).
// Which controls are enabled comes from the server: call_state.actions (docs/protocol.md).
import { VccClient, fetchDemoToken, rfc3339 } from './protocol.js';
import { params, bindCallView, bindLayoutPicker, blockedReason, attempt, clearError, setBadge, asLabel } from './ui.js';

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
let lastCall = null;     // the latest call_state of a call in progress, kept for wrap-up and callbacks
let wrapupDeadline = 0;
let wrapupTimer = 0;

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

const OFFER_TITLE = {
  inbound: 'Incoming call', consult: 'Consult request', direct: 'Direct call', callback: 'Callback due',
};

function showOffer(data) {
  offer = data;
  offerDeadline = data.timeout_ms ? Date.now() + data.timeout_ms : 0;
  const kind = data.kind || 'inbound';
  $('offer-title').textContent = OFFER_TITLE[kind] || `Incoming ${kind} call`;
  $('offer-kind').textContent = kind;
  $('offer-kind').dataset.kind = kind;
  $('offer-customer').textContent = data.customer?.name || data.customer?.id || 'a customer';
  $('offer-queue').textContent = data.queue || 'none';
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
  $('offer-countdown').textContent = countdown(offerDeadline);
}

function countdown(deadline) {
  if (!deadline) return 'no time limit';
  return `${Math.max(0, Math.ceil((deadline - Date.now()) / 1000))}s left`;
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

// ---- wrap-up (R2, R27) ----

const wrapupBox = $('wrapup');
const wrapupReason = $('wrapup-reason');

function showWrapup(data) {
  wrapupDeadline = data.timeout_ms ? Date.now() + data.timeout_ms : 0;
  $('wrapup-call').textContent = data.call_id || '';
  $('wrapup-queue').textContent = data.queue || 'none';
  $('wrapup-applies').textContent = data.applies_to_call
    ? 'Your reason is recorded as the call\'s wrap-up reason.'
    : 'You were a conferenced agent: your reason is recorded for you, not as the call\'s (R27).';
  const reasons = Array.isArray(data.reasons) ? data.reasons : [];
  wrapupReason.replaceChildren(...reasons.map((r) => new Option(r.replace(/_/g, ' '), r)));
  if (!reasons.length) wrapupReason.add(new Option('done', 'done'));
  clearInterval(wrapupTimer);
  wrapupTimer = setInterval(() => { $('wrapup-countdown').textContent = countdown(wrapupDeadline); }, 250);
  $('wrapup-countdown').textContent = countdown(wrapupDeadline);
  $('btn-wrapup').disabled = false;
  wrapupBox.hidden = false;
}

function hideWrapup() {
  clearInterval(wrapupTimer);
  wrapupBox.hidden = true;
}

async function submitWrapup() {
  const reason = wrapupReason.value;
  $('btn-wrapup').disabled = true;
  await attempt(() => client.wrapup(reason));
  // Success: agent_state (available) hides the form; a refusal leaves it up to try again.
  $('btn-wrapup').disabled = false;
}

// ---- call controls: enabled exactly from call_state.actions ----

const controls = {
  consult: $('btn-consult'),
  transfer: $('btn-transfer'),
  cancel_consult: $('btn-cancel-consult'),
  conference: $('btn-conference'),
  complete_transfer: $('btn-complete-transfer'),
  hold: $('btn-hold'),
  resume: $('btn-resume'),
  record: $('btn-record'),
  end_call: $('btn-end-call'),
  tag: $('btn-tag'),
  screenshare: $('btn-screenshare'),
};
const transferBox = $('consult-transfer');

// The consult button asks for a consult that leads to a conference, or (checked) a consultative
// transfer (R18); the server lists them separately (consult, consult_transfer).
const consultAction = () => (transferBox.checked ? 'consult_transfer' : 'consult');

const ONLY_CONTROLLER = {
  consult: 'R8: only the controlling agent seeks help.',
  consult_transfer: 'R8, R18: only the controlling agent transfers.',
  cancel_consult: 'R9: only the controlling agent cancels a consult.',
  conference: 'R9: only the controlling agent starts the conference.',
  complete_transfer: 'R18: only the controlling agent completes a transfer.',
  transfer: 'R17: only the controlling agent transfers the call.',
  end_call: 'R13: only the controlling agent ends the call for everyone.',
  record: 'R26: only the controlling agent starts or stops recording.',
};

/** Why the server does not list action now, in words (with the rule), for the disabled tooltip. */
function whyNot(action) {
  const call = client.call;
  if (client.wsState !== 'open') return 'Not connected.';
  if (!call || !client.callState) return 'Not in a call.';
  if (client.callState !== 'connected') return `The call is ${client.callState}.`;
  const me = client.user?.id;
  const parties = call.parties || [];
  const mine = parties.find((p) => p.id === me);
  if (!mine) return 'You are not a party of this call.';
  if (ONLY_CONTROLLER[action] && mine.as !== 'controlling_agent') return ONLY_CONTROLLER[action];
  const assist = call.wrapup_assist ? 'R14: the customer has left (wrap-up assist): nobody can be added, held or consulted.' : '';
  const consult = call.consult;
  const allVideo = parties.every((p) => p.video !== false);
  switch (action) {
    case 'consult':
    case 'consult_transfer':
      if (assist) return assist;
      if (consult) return 'A consult is already in progress (R9): conference, complete the transfer or cancel it first.';
      if (parties.length >= 8) return 'R10: a call has at most 8 parties.';
      if (action === 'consult' && call.media === 'sfu') {
        return 'R3: this call\'s video mode (SFU) allows two parties only; a consultative transfer (tick "transfer") is still possible.';
      }
      break;
    case 'transfer':
      if (assist) return assist;
      if (consult) return 'Finish or cancel the consult first.';
      break;
    case 'cancel_consult':
      return 'No consult in progress (R9).';
    case 'conference':
    case 'complete_transfer':
      if (assist) return assist;
      if (!consult) return `Needs a consult in progress (${action === 'conference' ? 'R9' : 'R18'}).`;
      if (consult.ringing || !consult.helper) return `Waiting for ${consult.target} to answer (R9).`;
      if (action === 'conference' && consult.transfer) return 'This consult is a transfer: complete it, or cancel (R18).';
      if (action === 'conference' && call.media === 'sfu') return 'R3: this call\'s video mode (SFU) allows two parties only.';
      break;
    case 'hold': {
      if (assist) return assist;
      if (call.conference) return 'R16: hold is refused during a conference.';
      const talking = parties.filter((p) => !p.held).length;
      if (talking >= 3) return 'R16: hold is refused while three or more parties talk.';
      const held = parties.find((p) => !/_agent$/.test(p.as) && p.held);
      if (held) return `${held.name || held.id} is already on hold.`;
      if (!parties.some((p) => !/_agent$/.test(p.as))) return 'Nobody to hold: agents are not put on hold (R15).';
      break;
    }
    case 'resume':
      if (assist) return assist;
      if (!parties.some((p) => p.held)) return 'Nobody is on hold.';
      if (consult) return 'R9: start the conference or cancel the consult to bring the customer back.';
      break;
    case 'screenshare':
      if (call.screen && call.screen !== me) return `${nameOf(call.screen)} is already sharing.`;
      if (!allVideo) return 'R19: screen sharing needs every party\'s video on.';
      break;
    case 'layout':
      if (call.media !== 'mcu') return 'R21: layouts exist only in MCU calls.';
      if (!allVideo) return 'R21: another layout needs every party\'s video on.';
      break;
    case 'tag':
      if (!call.recording) return 'R26: tags are added only while the call is recorded.';
      break;
    case 'record':
      break;
  }
  return 'Not allowed now (the server does not offer this action).';
}

function nameOf(id) {
  const p = client.call?.parties?.find((q) => q.id === id);
  return p?.name || id;
}

function renderControls() {
  const actions = client.call?.actions || [];
  const call = client.call;
  const allowed = (a) => actions.includes(a);
  for (const [name, el] of Object.entries(controls)) {
    const action = name === 'consult' ? consultAction() : name;
    const ok = !!client.callState && allowed(action);
    el.disabled = !ok;
    el.title = ok ? '' : blockedReason(call, action) || whyNot(action);
    el.dataset.why = el.title;
  }
  controls.record.textContent = call?.recording ? 'Stop recording' : 'Start recording';
  controls.record.setAttribute('aria-pressed', String(!!call?.recording));
  const sharing = client.screenSharing || (!!call?.screen && call.screen === client.user?.id);
  controls.screenshare.textContent = sharing ? 'Stop sharing' : 'Share screen';
  controls.screenshare.setAttribute('aria-pressed', String(sharing));
  // Stopping one's own share never needs the server's leave.
  if (client.screenSharing) controls.screenshare.disabled = false;
  controls.consult.textContent = transferBox.checked ? 'Consult to transfer' : 'Consult';

  const info = $('call-info');
  if (call && client.callState) {
    const mine = call.parties?.find((p) => p.id === client.user?.id);
    const bits = [call.call_id, call.queue && `queue ${call.queue}`, call.media && call.media.toUpperCase(),
      mine && `you are the ${asLabel(mine)}`, call.conference && 'conference', call.recording && 'recording',
      call.wrapup_assist && 'wrap-up assist (R14)'];
    info.textContent = `(${bits.filter(Boolean).join(', ')})`;
  } else {
    info.textContent = '(not in a call)';
  }

  const cs = $('consult-status');
  const c = call?.consult;
  if (c && client.callState) {
    const what = c.transfer ? 'Transfer consult' : 'Consult';
    cs.textContent = !c.helper
      ? `${what} to ${c.kind} ${c.target}: ${c.dialing ? 'dialling' : 'ringing'}. Everyone else is on hold.`
      : `${what}: ${nameOf(c.helper)} answered. ${c.transfer ? 'Complete the transfer' : 'Start the conference'} or cancel.`;
    cs.hidden = false;
  } else {
    cs.hidden = true;
  }
}

function target() {
  const kind = $('target-kind').value;
  const t = $('target').value.trim();
  if (!t) throw Object.assign(new Error('Enter an agent id, a queue name or a number.'), { code: 'target_required' });
  return { kind, target: t };
}

async function doConsult() {
  const t = target();
  await client.consult({ ...t, transfer: transferBox.checked });
}

async function doTransfer() {
  const t = target();
  await client.transfer(t);
}

async function toggleScreen() {
  const sharing = client.screenSharing || (client.call?.screen && client.call.screen === client.user?.id);
  await client.screenshare(!sharing);
}

async function addTag() {
  const input = $('tag-text');
  const text = input.value.trim();
  if (!text) throw Object.assign(new Error('Type the tag text first.'), { code: 'tag_required' });
  await client.tag(text);
  input.value = '';
}

// ---- direct dial (R29) ----

async function dial() {
  const t = $('dial-target').value.trim();
  if (!t) throw Object.assign(new Error('Enter an agent id or a number.'), { code: 'target_required' });
  clearError();
  lastEnd = '';
  await client.dial({ kind: $('dial-kind').value, target: t });
}

// ---- callbacks (R30) ----

function toLocalInput(d) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function scheduleCallback() {
  const due = $('cb-due').value;
  if (!due) throw Object.assign(new Error('Choose when to call back.'), { code: 'due_required' });
  const forWhom = $('cb-for').value;
  const cb = {
    due: rfc3339(due),
    reason: $('cb-reason').value.trim(),
    customer: $('cb-customer').value.trim(),
    name: $('cb-name').value.trim(),
    number: $('cb-number').value.trim(),
    call_id: lastCall?.call_id || '',
  };
  if (forWhom === 'personal') cb.personal = true;
  else cb.queue = forWhom.replace(/^queue:/, '');
  await client.scheduleCallback(cb);
  $('cb-reason').value = '';
  await client.listCallbacks();
}

function renderCallbacks() {
  const body = $('callback-list');
  const list = client.callbackList || [];
  body.replaceChildren();
  for (const cb of list) {
    const tr = document.createElement('tr');
    tr.dataset.id = cb.id;
    const due = new Date(cb.due);
    const cells = [
      Number.isNaN(due.getTime()) ? cb.due : due.toLocaleString(),
      cb.personal ? (cb.agent === client.user?.id ? 'me' : cb.agent) : `queue ${cb.queue}`,
      [cb.name, cb.customer && `(${cb.customer})`, cb.number].filter(Boolean).join(' '),
      cb.reason || '',
    ];
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const moveTd = document.createElement('td');
    const moveInput = document.createElement('input');
    moveInput.type = 'datetime-local';
    moveInput.className = 'cb-move-due';
    moveInput.setAttribute('aria-label', `New time for callback ${cb.id}`);
    if (!Number.isNaN(due.getTime())) moveInput.value = toLocalInput(due);
    const moveBtn = document.createElement('button');
    moveBtn.type = 'button';
    moveBtn.className = 'cb-move';
    moveBtn.textContent = 'Move';
    moveBtn.addEventListener('click', () => attempt(async () => {
      if (!moveInput.value) throw Object.assign(new Error('Choose the new time.'), { code: 'due_required' });
      await client.moveCallback(cb.id, rfc3339(moveInput.value));
      await client.listCallbacks();
    }));
    moveTd.append(moveInput, ' ', moveBtn);
    const cancelTd = document.createElement('td');
    const cancelBtn = document.createElement('button');
    cancelBtn.type = 'button';
    cancelBtn.className = 'cb-cancel danger';
    cancelBtn.textContent = 'Cancel';
    cancelBtn.addEventListener('click', () => attempt(async () => {
      await client.cancelCallback(cb.id);
      await client.listCallbacks();
    }));
    cancelTd.append(cancelBtn);
    tr.append(moveTd, cancelTd);
    body.append(tr);
  }
  $('callback-empty').hidden = list.length > 0;
  $('callback-table').hidden = list.length === 0;
}

// Fills the callback form from the call just left, so "call this customer back" is one click.
function prefillCallback(call) {
  const cust = call?.parties?.find((p) => p.as === 'customer');
  if (!cust) return;
  $('cb-customer').value = cust.phone ? '' : cust.id;
  $('cb-name').value = cust.name || '';
  if (cust.phone) $('cb-number').value = cust.id;
  if (!$('cb-due').value) $('cb-due').value = toLocalInput(new Date(Date.now() + 60 * 60 * 1000));
}

// Queue names for the callback "for" list and the consult target hints.
async function loadQueues() {
  try {
    const res = await fetch('/api/queues', { cache: 'no-store' });
    const names = res.ok ? (await res.json()).queues : null;
    if (!Array.isArray(names)) return;
    const sel = $('cb-for');
    for (const o of [...sel.options]) if (o.value.startsWith('queue:')) o.remove();
    for (const n of names) sel.add(new Option(`queue ${n}`, `queue:${n}`));
    const hints = $('target-hints');
    hints.replaceChildren(...names.map((n) => new Option(n, n)),
      ...['agent1', 'agent2', 'agent3', 'agent4'].map((a) => new Option(a, a)));
  } catch { /* an older server: keep the defaults */ }
}

// ---- rendering ----

function render() {
  const open = client.wsState === 'open';
  connectBtn.textContent = client.wsState === 'closed' ? 'Connect' : 'Disconnect';
  agentSelect.disabled = client.wsState !== 'closed';
  const agentState = open ? client.agentState || 'offline' : 'offline';
  setBadge(stateBadge, agentState);
  availableBtn.disabled = !open || agentState === 'wrapup' || agentState === 'busy';
  availableBtn.title = agentState === 'wrapup' ? 'R2: submit a wrap-up reason first.'
    : agentState === 'busy' ? 'You are in a call.' : '';
  availableBtn.textContent = agentState === 'offline' ? 'Go available' : 'Go offline';
  // A call_state for the offered call, if the server sends one, may narrow what is allowed.
  const actions = client.call?.call_id === offer?.call_id ? client.call?.actions : null;
  if (offer && Array.isArray(actions) && client.callState !== 'connected') {
    acceptBtn.disabled = !actions.includes('accept');
    declineBtn.disabled = !actions.includes('decline');
  }
  const dialBtn = $('btn-dial');
  dialBtn.disabled = !open || !!client.callState || agentState === 'ringing' || agentState === 'wrapup';
  dialBtn.title = !open ? 'Not connected.' : client.callState ? 'You are in a call.'
    : agentState === 'wrapup' ? 'R2: submit a wrap-up reason first.' : agentState === 'ringing' ? 'A call is ringing.' : '';
  $('btn-callback').disabled = $('btn-callbacks-refresh').disabled = !open;
  if (agentState !== 'wrapup') hideWrapup();
  renderControls();
  status.textContent = describe(open);
}

function describe(open) {
  if (!open) return client.wsState === 'connecting' ? 'Connecting...' : 'Not connected.';
  const me = client.user?.name || client.user?.id || agentSelect.value;
  if (client.callState === 'connected') return `${me}: in a call.`;
  if (client.callState) return `${me}: call ${client.callState}.`;
  const idle = {
    available: 'available, waiting for calls.', offline: 'offline.', ringing: 'a call is ringing.', busy: 'busy.',
    wrapup: 'in wrap-up: choose a reason to become available again.',
  };
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
client.addEventListener('call_state', ({ detail }) => {
  if (detail.state !== 'ended') lastCall = detail;
});
client.addEventListener('call_ended', ({ detail }) => {
  lastEnd = `Last call ended (${(detail.reason || 'ended').replace(/_/g, ' ')}).`;
  if (offer && offer.call_id === detail.call_id) hideOffer();
  if (lastCall) prefillCallback(lastCall);
});
client.addEventListener('wrapup_started', ({ detail }) => {
  if (lastCall) prefillCallback(lastCall);
  showWrapup(detail);
});
client.addEventListener('callbacks', renderCallbacks);
client.addEventListener('welcome', () => { attempt(() => client.listCallbacks()); });
client.addEventListener('ws_state', ({ detail }) => { if (detail.state === 'closed') { hideOffer(); hideWrapup(); } });
// DTMF: a keypad for the call's phone parties, and the digits they key (shown, never stored).
let keyed = '';
client.addEventListener('dtmf', ({ detail }) => {
  keyed = (keyed + detail.digit).slice(-32);
  $('dtmf-heard').textContent = `${detail.from} keyed ${keyed}`;
  window.vccState.dtmf = keyed;
});
client.addEventListener('call_state', ({ detail }) => {
  const phones = (detail.parties || []).filter((p) => p.phone);
  const box = $('dtmf-form');
  box.hidden = !phones.length || detail.state !== 'connected';
  const sel = $('dtmf-to');
  const want = phones.map((p) => p.id).join(',');
  if (sel.dataset.ids !== want) {
    sel.replaceChildren(...phones.map((p) => new Option(p.name || p.id, p.id)));
    sel.dataset.ids = want;
  }
});
client.addEventListener('call_ended', () => { keyed = ''; $('dtmf-heard').textContent = ''; });
$('dtmf-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const digits = $('dtmf-digits').value.trim();
  attempt(() => client.dtmf($('dtmf-to').value, digits).then(() => { $('dtmf-digits').value = ''; }));
});

for (const type of ['ws_state', 'welcome', 'agent_state', 'call_state', 'call_ended', 'wrapup_started',
  'screen_share', 'local_media']) {
  client.addEventListener(type, render);
}

$('login-form').addEventListener('submit', (ev) => { ev.preventDefault(); toggleConnection(); });
availableBtn.addEventListener('click', toggleAvailability);
acceptBtn.addEventListener('click', () => answerOffer(true));
declineBtn.addEventListener('click', () => answerOffer(false));
$('wrapup-form').addEventListener('submit', (ev) => { ev.preventDefault(); submitWrapup(); });

$('consult-form').addEventListener('submit', (ev) => { ev.preventDefault(); attempt(doConsult); });
transferBox.addEventListener('change', renderControls);
controls.transfer.addEventListener('click', () => attempt(doTransfer));
controls.cancel_consult.addEventListener('click', () => attempt(() => client.cancelConsult()));
controls.conference.addEventListener('click', () => attempt(() => client.conference()));
controls.complete_transfer.addEventListener('click', () => attempt(() => client.completeTransfer()));
controls.hold.addEventListener('click', () => attempt(() => client.hold()));
controls.resume.addEventListener('click', () => attempt(() => client.resume()));
controls.record.addEventListener('click', () => attempt(() => client.record(!client.call?.recording)));
controls.end_call.addEventListener('click', () => attempt(() => client.endCall()));
controls.screenshare.addEventListener('click', () => attempt(toggleScreen));
bindLayoutPicker(client, whyNot);  // R21: the #layout select, shown in MCU calls
$('tag-form').addEventListener('submit', (ev) => { ev.preventDefault(); attempt(addTag); });
$('dial-form').addEventListener('submit', (ev) => { ev.preventDefault(); attempt(dial).finally(render); });
$('callback-form').addEventListener('submit', (ev) => { ev.preventDefault(); attempt(scheduleCallback); });
$('btn-callbacks-refresh').addEventListener('click', () => attempt(() => client.listCallbacks()));

render();
renderCallbacks();
loadQueues();
await view.startLocalMedia();
if (user || auto) {
  await attempt(connect);
  render();
  if (auto && client.wsState === 'open') await attempt(() => client.setAgentState('available'));
}
