// What the pages share: local media, videos, the in-call buttons, the party list, the
// connection/error display and the window.vccState snapshot that automated tests poll.

export const params = new URLSearchParams(location.search);

const $ = (id) => document.getElementById(id);

/** The plain object tests poll; updated in place so a held reference stays current. */
export const vccState = {
  ws: 'closed', pc: 'none', callState: '', lastError: null,
  callId: '', queuePosition: 0, agentState: '', user: null, remoteTracks: 0,
  localMedia: 'pending',
  // The call model (docs/protocol.md): what the server allows now, who is in the call and as what.
  actions: [], parties: [], consult: null, conference: false, media: '', supervisors: [], note: '', lastNote: '',
  recording: false, screen: '', screenSharing: false, wrapupAssist: false,
  layout: 'equal',   // the layout this page chose to view in an MCU call (R21)
  wrapup: null,      // {call_id, queue, reasons, timeout_ms, applies_to_call} while in wrap-up
  offer: null,       // the pending call_offered (kind: inbound, consult, direct, callback)
  videoMode: '', activeCalls: [], callbacks: [],
};
window.vccState = vccState;

// ---- errors ----

const GUM_ERRORS = {
  NotAllowedError: 'Camera/microphone permission was denied. Allow access in the browser and reload.',
  SecurityError: 'Camera/microphone access is blocked on this page (it needs https or localhost).',
  NotFoundError: 'No camera or microphone was found.',
  NotReadableError: 'The camera or microphone is in use by another application.',
  OverconstrainedError: 'The camera cannot provide the requested format.',
};

/** Shows an error (a VccError, a DOMException, or {code, message}) until the next one or a dismiss. */
export function showError(err) {
  const code = err?.code && typeof err.code === 'string' ? err.code : (err?.name || 'error');
  const message = GUM_ERRORS[err?.name] || err?.message || String(err);
  vccState.lastError = { code, message, at: Date.now() };
  const box = $('error');
  box.querySelector('.code').textContent = code;
  box.querySelector('.message').textContent = message;
  const why = RULE_OF_CODE[code];
  box.title = why ? `${why} (shared/RULES.md)` : '';
  box.hidden = false;
}

// The rule behind each refusal code, shown as the error's tooltip.
const RULE_OF_CODE = {
  mode_forbids_multiparty: 'R3', conference_full: 'R10', wrapup_assist: 'R14', hold_in_conference: 'R16',
  screenshare_needs_all_video: 'R19', layout_needs_all_video: 'R21', bad_wrapup_reason: 'R27',
};

// What a refusal code means, for a disabled control's tooltip (call_state.blocked lists them).
const CODE_TEXT = {
  mode_forbids_multiparty: 'this call\'s video mode (SFU) allows two parties only',
  conference_full: 'a call has at most 8 parties',
  wrapup_assist: 'the customer has left (wrap-up assist): nobody can be added, held or consulted',
  hold_in_conference: 'hold is refused during a conference',
  screenshare_needs_all_video: 'screen sharing needs every party\'s video on',
  layout_needs_all_video: 'another layout needs every party\'s video on',
};

/**
 * Why the server blocks an action now, from call_state.blocked (action -> the rule's error code),
 * in words with the rule and the code; '' when the server gives no code for it.
 */
export function blockedReason(call, action) {
  const code = call?.blocked?.[action];
  if (!code) return '';
  const rule = RULE_OF_CODE[code];
  const text = CODE_TEXT[code] || code.replace(/_/g, ' ');
  return `${rule ? `${rule}: ` : ''}${text[0].toUpperCase()}${text.slice(1)} (${code}).`;
}

export function clearError() {
  $('error').hidden = true;
}

/**
 * Shows a REST answer's failure ({code, message} JSON, or the bare status) like a protocol error.
 * Resolves with the parsed body of a successful answer.
 */
export async function fetchJSON(url, token, init = {}) {
  let res;
  try {
    res = await fetch(url, { cache: 'no-store', ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${token}` } });
  } catch (err) {
    throw Object.assign(new Error(`cannot reach ${url}: ${err.message}`), { code: 'network' });
  }
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  if (!res.ok) {
    throw Object.assign(new Error(body?.message || text || `HTTP ${res.status}`), { code: body?.code || `http_${res.status}`, server: false });
  }
  return body;
}

/** Wires the error box, the connection badge and window.vcc; every server `error` is shown. */
export function bindStatus(client) {
  window.vcc = client;
  $('error').querySelector('.dismiss').addEventListener('click', clearError);
  client.addEventListener('ws_state', ({ detail }) => {
    if (detail.state === 'closed' && detail.code !== 1000) {
      showError({ code: 'disconnected', message: `Connection to the server closed (code ${detail.code}${detail.reason ? `: ${detail.reason}` : ''}).` });
    }
  });
  client.addEventListener('error', ({ detail }) => showError(detail));
  client.addEventListener('local_error', ({ detail }) => showError(detail));
  const wsBadge = $('ws-state');
  const sync = () => {
    Object.assign(vccState, {
      ws: client.wsState, user: client.user, agentState: client.agentState,
      videoMode: client.currentVideoMode, activeCalls: client.activeCallList, callbacks: client.callbackList,
    });
    if (wsBadge) setBadge(wsBadge, client.wsState === 'open' ? 'connected' : client.wsState);
  };
  for (const type of ['ws_state', 'welcome', 'agent_state', 'video_mode', 'active_calls', 'callbacks']) {
    client.addEventListener(type, sync);
  }
  sync();
  return sync;
}

/** The canvas "screen" of ?fake=...: a moving pattern so the encoder keeps producing frames. */
export function fakeScreenStream() {
  const canvas = document.createElement('canvas');
  canvas.width = 1280;
  canvas.height = 720;
  const g = canvas.getContext('2d');
  let n = 0;
  const timer = setInterval(() => {
    g.fillStyle = '#f4f6f8';
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#1f6feb';
    g.fillRect((n * 8) % canvas.width, 200, 160, 160);
    g.fillStyle = '#1d2430';
    g.font = '48px sans-serif';
    g.fillText(`shared screen ${n++}`, 40, 80);
  }, 1000 / 15);
  const stream = canvas.captureStream(15);
  stream.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
  return stream;
}

/** What screenshare(true) captures: the display picker, or with ?fake=... a canvas. */
export function screenSource() {
  if (params.get('fake')) return Promise.resolve(fakeScreenStream());
  return navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
}

/** Runs a user action, showing local failures; server refusals are shown by the `error` event. */
export async function attempt(fn) {
  try {
    return await fn();
  } catch (err) {
    if (!err?.server) showError(err);
    return undefined;
  }
}

// ---- local media ----

/**
 * The stream to send: ?fake=color:<css colour> gives a solid 640x480 30 fps canvas and a tone
 * (440 Hz, or ?tone=<hz>), anything else asks the camera and microphone (?fake=1 relies on
 * Chromium's fake devices).
 */
export async function getLocalMedia() {
  const fake = params.get('fake') || '';
  if (fake.startsWith('color:')) {
    // An unescaped '#' starts the fragment: ?fake=color:#ff0000 reaches us as "color:" + "#ff0000".
    const colour = fake.slice(6) || location.hash || '#00ff00';
    return syntheticStream(/^[0-9a-f]{3}([0-9a-f]{3})?$/i.test(colour) ? `#${colour}` : colour);
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } },
    });
  } catch (err) {
    // Better to hear and be heard than to fail the call: retry with the microphone alone.
    if (err.name === 'NotFoundError' || err.name === 'NotReadableError' || err.name === 'OverconstrainedError') {
      try {
        const audioOnly = await navigator.mediaDevices.getUserMedia({ audio: true });
        showError(Object.assign(new Error(`${GUM_ERRORS[err.name]} Continuing with audio only.`), { code: err.name }));
        return audioOnly;
      } catch { /* report the first failure */ }
    }
    throw err;
  }
}

function syntheticStream(colour) {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
  const g = canvas.getContext('2d');
  const paint = () => { g.fillStyle = colour; g.fillRect(0, 0, canvas.width, canvas.height); };
  paint();
  // A canvas only yields frames when drawn on, so repaint at the frame rate to keep video flowing.
  setInterval(paint, 1000 / 30);
  const video = canvas.captureStream(30).getVideoTracks()[0];

  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  // ?tone=<hz> gives each test party its own voice, so a listener can tell who it hears.
  const tone = Number(params.get('tone'));
  osc.frequency.value = tone > 0 && tone < 20000 ? tone : 440;
  const gain = ctx.createGain();
  gain.gain.value = 0.1;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  // Autoplay policy may start the context suspended (silent track) until a user gesture.
  ctx.resume().catch(() => {});
  document.addEventListener('pointerdown', () => ctx.resume(), { once: true });

  return new MediaStream([video, ...dest.stream.getAudioTracks()]);
}

// ---- the call view ----

/**
 * Wires a VccClient to the common page elements: status badges, error box, videos, mute,
 * camera and hang-up buttons, the party list. Returns helpers for the page's own parts.
 * @param {VccClient} client
 * @param {{canHangup?: (client) => boolean, onHangup?: () => Promise}} [opts] a page whose user is no
 *   party (a supervisor) decides when the hang-up button works and what it does
 */
export function bindCallView(client, opts = {}) {
  const pcBadge = $('pc-state');
  const remote = $('remote');
  const local = $('local');
  const btnAudio = $('btn-audio');
  const btnVideo = $('btn-video');
  const btnHangup = $('btn-hangup');
  const soundBtn = $('enable-sound');

  const syncStatus = bindStatus(client);
  client.screenSource = client.screenSource || screenSource;

  const sync = () => {
    syncStatus();
    const call = client.call;
    Object.assign(vccState, {
      pc: client.pc ? client.pc.connectionState : 'none',
      callState: client.callState,
      callId: client.callId,
      queuePosition: client.queuePosition,
      agentState: client.agentState,
      user: client.user,
      remoteTracks: client.remoteStream ? client.remoteStream.getTracks().length : 0,
      actions: call?.actions || [],
      parties: call?.parties || [],
      consult: call?.consult || null,
      conference: !!call?.conference,
      media: call?.media || '',
      supervisors: call?.supervisors || [],
      note: call?.note || '',
      recording: !!call?.recording,
      screen: call?.screen || '',
      wrapupAssist: !!call?.wrapup_assist,
      screenSharing: client.screenSharing,
      wrapup: client.wrapupInfo,
      offer: client.offer,
    });
    setBadge(pcBadge, client.pc ? `media ${client.pc.connectionState}` : 'no media');
    updateButtons();
  };

  const updateButtons = () => {
    const actions = client.call?.actions;
    const inCall = !!client.callState;
    // The server's actions decide; without a list, fall back to "in a call". A supervisor has no
    // actions (not a party) but may always stop monitoring.
    btnHangup.disabled = opts.canHangup ? !opts.canHangup(client)
      : Array.isArray(actions) ? !actions.includes('hangup') : !inCall;
    btnHangup.title = btnHangup.disabled ? (inCall ? 'The server does not allow leaving now.' : 'Not in a call.') : '';
    btnAudio.textContent = client.audioEnabled ? 'Mute' : 'Unmute';
    btnAudio.setAttribute('aria-pressed', String(!client.audioEnabled));
    btnVideo.textContent = client.videoEnabled ? 'Video off' : 'Video on';
    btnVideo.setAttribute('aria-pressed', String(!client.videoEnabled));
    const hasLocal = (kind) => !!client.localStream?.getTracks().some((t) => t.kind === kind);
    btnAudio.disabled = !hasLocal('audio');
    btnVideo.disabled = !hasLocal('video');
  };

  for (const type of ['ws_state', 'pc_state', 'welcome', 'call_state', 'call_ended', 'queue_position',
    'agent_state', 'media_start', 'local_media', 'remote_stream', 'call_offered', 'offer_withdrawn',
    'wrapup_started', 'screen_share']) {
    client.addEventListener(type, sync);
  }

  client.addEventListener('pc_state', ({ detail }) => {
    if (detail.state === 'failed') showError({ code: 'media_failed', message: 'The media connection to the server failed.' });
  });

  client.addEventListener('remote_stream', ({ detail }) => playRemote(detail.stream));
  client.addEventListener('call_state', ({ detail }) => renderParties(detail, client.user));
  client.addEventListener('call_ended', () => renderParties(null, client.user));
  client.addEventListener('ws_state', ({ detail }) => { if (detail.state === 'closed') renderParties(null, client.user); });

  // Unmuted autoplay needs a user gesture; an automated page has none, so play muted and offer a button.
  const playRemote = async (stream) => {
    remote.srcObject = stream;
    soundBtn.hidden = true;
    renderExtraVideos(stream);
    if (!stream) return;
    remote.muted = false;
    try {
      await remote.play();
    } catch (err) {
      if (err.name !== 'NotAllowedError') return;  // AbortError: replaced by a newer stream
      remote.muted = true;
      soundBtn.hidden = false;
      remote.play().catch(() => {});
    }
  };
  soundBtn.addEventListener('click', () => {
    remote.muted = false;
    soundBtn.hidden = true;
    remote.play().catch(() => {});
  });

  btnAudio.addEventListener('click', () => attempt(() => client.setAudioEnabled(!client.audioEnabled)));
  btnVideo.addEventListener('click', () => attempt(() => client.setVideoEnabled(!client.videoEnabled)));
  btnHangup.addEventListener('click', () => attempt(opts.onHangup || (() => client.hangup())));

  /** Gets camera+microphone (or the fake), previews it and hands it to the client. */
  const startLocalMedia = async () => {
    try {
      const stream = await getLocalMedia();
      client.setLocalStream(stream);
      local.srcObject = stream;
      local.play().catch(() => {});
      vccState.localMedia = stream.getTracks().map((t) => t.kind).join('+') || 'none';
    } catch (err) {
      vccState.localMedia = 'failed';
      showError(err);
    }
    updateButtons();
  };

  window.vccProbe = { colourAt: remoteColourAt, tones: remoteTones };
  sync();
  return { sync, startLocalMedia };
}

// ---- the MCU layout picker (R21) ----

/**
 * Wires the #layout select (inside #layout-box): shown only in MCU calls, enabled when the server
 * lists `layout` in actions, otherwise disabled with the reason (call_state.blocked, or why(action)
 * when the server gives no code). A choice is sent as `layout`; a refusal puts the old one back.
 * @param {VccClient} client
 * @param {(action: string) => string} [why] the page's own words for a disabled control
 */
export function bindLayoutPicker(client, why = () => '') {
  const select = $('layout');
  const box = $('layout-box');
  let chosen = 'equal';
  let callId = '';
  const render = () => {
    const call = client.call;
    if (!client.callState || call?.call_id !== callId) {
      chosen = 'equal';  // a new call starts with the default layout
      callId = client.callState ? call?.call_id || '' : '';
    }
    const mcu = !!client.callState && call?.media === 'mcu';
    box.hidden = !mcu;
    const ok = mcu && (call?.actions || []).includes('layout');
    select.disabled = !ok;
    select.title = ok ? '' : blockedReason(call, 'layout') || why('layout') || 'Not allowed now.';
    select.dataset.why = select.title;
    select.value = chosen;
    vccState.layout = chosen;
  };
  select.addEventListener('change', async () => {
    const want = select.value;
    if (await attempt(async () => { await client.layout(want); return true; })) chosen = want;
    render();
  });
  for (const type of ['ws_state', 'call_state', 'call_ended']) client.addEventListener(type, render);
  render();
  return render;
}

// ---- probes for automated tests (window.vccProbe) ----

let probeCanvas = null;

/**
 * The colour of the main remote video (in an MCU call: the composite) at fractions (fx, fy) of
 * its picture, averaged over a 5x5 patch: {r, g, b, w, h}; null before the first frame.
 */
export function remoteColourAt(fx, fy) {
  const v = $('remote');
  const w = v.videoWidth;
  const h = v.videoHeight;
  if (!w || !h || v.readyState < 2) return null;
  probeCanvas = probeCanvas || document.createElement('canvas');
  if (probeCanvas.width !== w) probeCanvas.width = w;
  if (probeCanvas.height !== h) probeCanvas.height = h;
  const g = probeCanvas.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, w, h);
  const x = Math.min(w - 3, Math.max(2, Math.round(fx * w)));
  const y = Math.min(h - 3, Math.max(2, Math.round(fy * h)));
  const d = g.getImageData(x - 2, y - 2, 5, 5).data;
  let r = 0; let gr = 0; let b = 0;
  for (let i = 0; i < d.length; i += 4) { r += d[i]; gr += d[i + 1]; b += d[i + 2]; }
  const n = d.length / 4;
  return { r: Math.round(r / n), g: Math.round(gr / n), b: Math.round(b / n), w, h };
}

let tap = null;  // {key, ctx, analyser} listening to the remote audio tracks

/**
 * How loud each of freqs (Hz) is in the received audio: dB above the spectrum's median bin, as
 * {<hz>: dB, median, sampleRate}; null until the analyser has data. The first call starts a
 * WebAudio AnalyserNode on the remote audio tracks (Chromium delivers a remote WebRTC track to
 * WebAudio only while it also plays in a media element, which #remote does).
 */
export function remoteTones(freqs) {
  const stream = $('remote').srcObject;
  const tracks = stream ? stream.getAudioTracks().filter((t) => t.readyState === 'live') : [];
  if (!tracks.length) return null;
  const key = tracks.map((t) => t.id).join(',');
  if (!tap || tap.key !== key) {
    if (tap) tap.ctx.close().catch(() => {});
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0.5;
    for (const t of tracks) ctx.createMediaStreamSource(new MediaStream([t])).connect(analyser);
    ctx.resume().catch(() => {});
    tap = { key, ctx, analyser };
    return null;
  }
  const { ctx, analyser } = tap;
  const data = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(data);
  for (let i = 0; i < data.length; i++) if (!(data[i] > -200)) data[i] = -200;  // -Infinity: silence
  const median = Float32Array.from(data).sort()[data.length >> 1];
  if (median <= -200 && Math.max(...data) <= -200) return null;  // nothing received yet
  const hz = ctx.sampleRate / analyser.fftSize;
  const out = { median, sampleRate: ctx.sampleRate };
  for (const f of freqs) {
    const c = Math.round(f / hz);
    let peak = -200;
    for (let i = Math.max(0, c - 2); i <= Math.min(data.length - 1, c + 2); i++) peak = Math.max(peak, data[i]);
    out[f] = Math.round((peak - median) * 10) / 10;
  }
  return out;
}

export function setBadge(el, text) {
  el.textContent = text;
  el.dataset.state = text.replace(/^media /, '');
}

const AS_LABEL = {
  controlling_agent: 'controlling agent', conferenced_agent: 'conferenced agent',
  customer: 'customer', participant: 'participant',
};

/** The party's role in the call, as people say it. */
export function asLabel(p) {
  return AS_LABEL[p?.as] || p?.as || p?.role || '';
}

function partyFlags(p, call) {
  return [
    p.held && 'on hold',
    p.remote_hold && 'has put the call on hold',
    p.audio === false && 'muted',
    p.video === false && 'camera off',
    p.phone && 'phone',
    call?.screen && call.screen === p.id && 'sharing screen',
  ].filter(Boolean);
}

// The party list: each party's role in the call (controlling / conferenced / customer /
// participant), hold and audio/video state; supervisors (only agents and supervisors are told of
// them, R23) and the state's note (e.g. a share stopped by R20) where the page has room for them.
function renderParties(call, me) {
  const list = $('parties');
  list.replaceChildren();
  const label = $('remote-label');
  const others = (call?.parties || []).filter((p) => p.id !== me?.id);
  label.textContent = others.length ? others.map((p) => partyText(p, call)).join(', ') : '';
  for (const p of call?.parties || []) {
    const li = document.createElement('li');
    li.dataset.party = p.id;
    li.dataset.as = p.as || '';
    li.dataset.held = String(!!p.held);
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = `${p.name || p.id}${p.id === me?.id ? ' (you)' : ''}`;
    const role = document.createElement('span');
    role.className = `role as-${p.as || 'unknown'}`;
    role.textContent = asLabel(p);
    li.append(name, ' ', role);
    const flags = partyFlags(p, call);
    if (flags.length) {
      const span = document.createElement('span');
      span.className = 'flags';
      span.textContent = flags.join(', ');
      li.append(' ', span);
    }
    list.append(li);
  }
  const sup = $('supervisors');
  if (sup) {
    const names = (call?.supervisors || []).map((w) => `${w.name || w.id} (${w.barge ? 'barged in' : 'monitoring'})`);
    sup.textContent = names.length ? `Supervisors present: ${names.join(', ')}` : '';
    sup.hidden = !names.length;
  }
  // A note stays up for the rest of the call (the next call_state usually has none).
  const note = $('call-note');
  if (note) {
    if (!call || call.call_id !== note.dataset.call) note.textContent = '';
    if (call?.note) note.textContent = describeNote(call.note);
    note.dataset.call = call?.call_id || '';
    vccState.lastNote = note.textContent;
    note.hidden = !note.textContent;
  }
}

/** A call_state note ("screenshare_stopped: a party turned video off (R20)") in words. */
export function describeNote(note) {
  const [code, ...rest] = String(note).split(': ');
  const text = rest.join(': ');
  const words = code.replace(/_/g, ' ');
  return text ? `${words[0].toUpperCase()}${words.slice(1)}: ${text}` : `${words[0].toUpperCase()}${words.slice(1)}`;
}

function partyText(p, call) {
  const flags = partyFlags(p, call);
  return `${p.name || p.id}${flags.length ? ` (${flags.join(', ')})` : ''}`;
}

// The main <video> shows the first remote video track; every further one (another party in an
// SFU-forwarded call, a screen share) gets a small tile of its own. The server keeps a track whose
// source went away (a share that stopped) for reuse rather than renegotiating, so a tile that has
// decoded no frame for a few seconds is hidden, and shown again when frames flow.
const STALE_CHECKS = 3;  // one check a second

function renderExtraVideos(stream) {
  const box = $('remote-extra');
  if (!box) return;
  const tracks = stream ? stream.getVideoTracks().filter((t) => t.readyState === 'live') : [];
  const keep = new Set(tracks.slice(1).map((t) => t.id));
  for (const v of [...box.querySelectorAll('video')]) {
    if (keep.has(v.dataset.track)) continue;
    clearInterval(Number(v.dataset.timer));
    v.closest('figure').remove();
  }
  for (const t of tracks.slice(1)) {
    if (box.querySelector(`video[data-track="${CSS.escape(t.id)}"]`)) continue;
    const fig = document.createElement('figure');
    fig.className = 'video tile';
    fig.hidden = true;  // until its first frame
    const v = document.createElement('video');
    v.dataset.track = t.id;
    v.autoplay = v.playsInline = v.muted = true;  // the main video plays every audio track
    v.srcObject = new MediaStream([t]);
    let last = 0;
    let still = STALE_CHECKS;
    v.dataset.timer = String(setInterval(() => {
      const frames = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
      still = frames > last ? 0 : still + 1;
      last = frames;
      const hide = still >= STALE_CHECKS;
      if (fig.hidden !== hide) {
        fig.hidden = hide;
        syncTilesBox(box);
      }
    }, 1000));
    fig.append(v);
    box.append(fig);
    v.play().catch(() => {});
  }
  syncTilesBox(box);
}

function syncTilesBox(box) {
  box.hidden = ![...box.children].some((f) => !f.hidden);
}
