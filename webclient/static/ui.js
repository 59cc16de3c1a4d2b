// What the customer and agent pages share: local media, videos, the in-call buttons, the
// connection/error display and the window.vccState snapshot that automated tests poll.

export const params = new URLSearchParams(location.search);

const $ = (id) => document.getElementById(id);

/** The plain object tests poll; updated in place so a held reference stays current. */
export const vccState = {
  ws: 'closed', pc: 'none', callState: '', lastError: null,
  callId: '', queuePosition: 0, agentState: '', user: null, remoteTracks: 0,
  localMedia: 'pending',
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
  box.hidden = false;
}

export function clearError() {
  $('error').hidden = true;
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
 * The stream to send: ?fake=color:<css colour> gives a solid 640x480 30 fps canvas and a tone,
 * anything else asks the camera and microphone (?fake=1 relies on Chromium's fake devices).
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
  osc.frequency.value = 440;
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
 */
export function bindCallView(client) {
  const wsBadge = $('ws-state');
  const pcBadge = $('pc-state');
  const remote = $('remote');
  const local = $('local');
  const btnAudio = $('btn-audio');
  const btnVideo = $('btn-video');
  const btnHangup = $('btn-hangup');
  const soundBtn = $('enable-sound');

  window.vcc = client;
  $('error').querySelector('.dismiss').addEventListener('click', clearError);

  const sync = () => {
    Object.assign(vccState, {
      ws: client.wsState,
      pc: client.pc ? client.pc.connectionState : 'none',
      callState: client.callState,
      callId: client.callId,
      queuePosition: client.queuePosition,
      agentState: client.agentState,
      user: client.user,
      remoteTracks: client.remoteStream ? client.remoteStream.getTracks().length : 0,
    });
    setBadge(wsBadge, client.wsState === 'open' ? 'connected' : client.wsState);
    setBadge(pcBadge, client.pc ? `media ${client.pc.connectionState}` : 'no media');
    updateButtons();
  };

  const updateButtons = () => {
    const actions = client.call?.actions;
    const inCall = !!client.callState;
    // The server's actions decide; without a list, fall back to "in a call".
    btnHangup.disabled = Array.isArray(actions) ? !actions.includes('hangup') : !inCall;
    btnAudio.textContent = client.audioEnabled ? 'Mute' : 'Unmute';
    btnAudio.setAttribute('aria-pressed', String(!client.audioEnabled));
    btnVideo.textContent = client.videoEnabled ? 'Video off' : 'Video on';
    btnVideo.setAttribute('aria-pressed', String(!client.videoEnabled));
    const hasLocal = (kind) => !!client.localStream?.getTracks().some((t) => t.kind === kind);
    btnAudio.disabled = !hasLocal('audio');
    btnVideo.disabled = !hasLocal('video');
  };

  for (const type of ['ws_state', 'pc_state', 'welcome', 'call_state', 'call_ended', 'queue_position',
    'agent_state', 'media_start', 'local_media', 'remote_stream']) {
    client.addEventListener(type, sync);
  }

  client.addEventListener('ws_state', ({ detail }) => {
    if (detail.state === 'closed' && detail.code !== 1000) {
      showError({ code: 'disconnected', message: `Connection to the server closed (code ${detail.code}${detail.reason ? `: ${detail.reason}` : ''}).` });
    }
  });
  client.addEventListener('error', ({ detail }) => showError(detail));
  client.addEventListener('local_error', ({ detail }) => showError(detail));
  client.addEventListener('pc_state', ({ detail }) => {
    if (detail.state === 'failed') showError({ code: 'media_failed', message: 'The media connection to the server failed.' });
  });

  client.addEventListener('remote_stream', ({ detail }) => playRemote(detail.stream));
  client.addEventListener('call_state', ({ detail }) => renderParties(detail, client.user));
  client.addEventListener('call_ended', () => renderParties(null));

  // Unmuted autoplay needs a user gesture; an automated page has none, so play muted and offer a button.
  const playRemote = async (stream) => {
    remote.srcObject = stream;
    soundBtn.hidden = true;
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
  btnHangup.addEventListener('click', () => attempt(() => client.hangup()));

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

  sync();
  return { sync, startLocalMedia };
}

function setBadge(el, text) {
  el.textContent = text;
  el.dataset.state = text.replace(/^media /, '');
}

function renderParties(call, me) {
  const list = $('parties');
  list.replaceChildren();
  const label = $('remote-label');
  const others = (call?.parties || []).filter((p) => p.id !== me?.id);
  label.textContent = others.length ? others.map(partyText).join(', ') : '';
  for (const p of call?.parties || []) {
    const li = document.createElement('li');
    li.textContent = `${p.name || p.id} (${p.role})${p.id === me?.id ? ' - you' : ''}`;
    const flags = [p.audio === false && 'muted', p.video === false && 'camera off'].filter(Boolean);
    if (flags.length) {
      const span = document.createElement('span');
      span.className = 'flags';
      span.textContent = flags.join(', ');
      li.append(' ', span);
    }
    list.append(li);
  }
}

function partyText(p) {
  const flags = [p.audio === false && 'muted', p.video === false && 'camera off'].filter(Boolean);
  return `${p.name || p.id}${flags.length ? ` (${flags.join(', ')})` : ''}`;
}
