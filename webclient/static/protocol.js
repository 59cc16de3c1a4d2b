// VCC signaling protocol, version 1 (docs/protocol.md), and the WebRTC side of a call.
//
// This module has no UI: pages (and tests) drive it through VccClient's methods and listen to its
// events. Every server message is re-dispatched as a CustomEvent named after its `type`, with the
// message's `data` as `detail`; the full envelope is on the generic `message` event.

export const PROTOCOL_VERSION = 1;

// The server refuses bigger frames and closes the socket (1009), so fail early and locally instead.
const MAX_FRAME_BYTES = 64 * 1024;

const DEFAULT_REQUEST_TIMEOUT_MS = 15000;
const DEFAULT_PING_INTERVAL_MS = 25000;
const ORPHAN = '';  // _remoteStreams key for tracks that arrived without a stream

/** An error from the server (`server` true, `code` from the protocol) or from this client. */
export class VccError extends Error {
  constructor(code, message, { re = '', server = false } = {}) {
    super(message || code);
    this.name = 'VccError';
    this.code = code;
    this.re = re;
    this.server = server;
  }
}

/**
 * Fetches a demo token: fetchDemoToken({user: 'agent1'}) or fetchDemoToken({role: 'customer', name}).
 * The body may be JSON ({"token": "..."}) or the bare token, so either server style works.
 */
export async function fetchDemoToken(params, base = globalThis.location?.href) {
  const url = new URL('/api/demo-token', base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  let res;
  try {
    res = await fetch(url, { cache: 'no-store' });
  } catch (err) {
    throw new VccError('network', `cannot reach ${url.pathname}: ${err.message}`);
  }
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* a bare token */ }
  if (!res.ok) {
    throw new VccError(body?.code || `http_${res.status}`,
      body?.message || `demo token request failed: HTTP ${res.status}`);
  }
  let token = text.trim();
  if (typeof body === 'string') token = body;
  else if (body && typeof body === 'object') token = body.token || body.jwt || '';
  if (!token) throw new VccError('bad_response', 'demo token endpoint returned no token');
  return token;
}

/**
 * One signaling connection and, while in a call, its RTCPeerConnection.
 *
 * Server-message events: welcome, ack, error, agent_state, call_offered, offer_withdrawn,
 * wrapup_started, queue_position, call_state, call_ended, media_start, offer, answer, candidate,
 * pong, active_calls, video_mode, callback, callbacks (and any future type, by name).
 * Generic: message (detail: envelope).
 * Local events: ws_state ({state, code, reason}), pc_state ({state, iceState, signalingState}),
 * remote_stream ({stream, streams, track}), local_media ({audio, video}),
 * screen_share ({on, stream, reason}): the local screen share started or stopped (by us, by the
 * browser's own "stop sharing", by a server refusal, or by the server under R20),
 * local_error (a VccError for failures no Promise reports, e.g. applying a server SDP).
 */
export class VccClient extends EventTarget {
  /**
   * @param {object} [opts]
   * @param {string} [opts.url] WebSocket URL; default ws(s)://<page host>/ws
   * @param {MediaStream} [opts.localStream] camera+microphone (or any) stream to send in calls
   * @param {number} [opts.requestTimeoutMs] reject a request whose ack/error never comes
   * @param {number} [opts.pingIntervalMs] keep-alive pings; 0 disables
   * @param {() => Promise<MediaStream>} [opts.screenSource] what screenshare(true) captures;
   *   default navigator.mediaDevices.getDisplayMedia (tests pass a canvas stream)
   */
  constructor(opts = {}) {
    super();
    this.url = opts.url || defaultWsUrl();
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.pingIntervalMs = opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.localStream = opts.localStream || null;

    this.ws = null;
    this.wsState = 'closed';
    this.user = null;

    this.pc = null;
    this.callId = '';
    this.callState = '';     // latest call_state.state, '' when not in a call
    this.call = null;        // latest call_state data
    this.agentState = '';
    this.queuePosition = 0;
    this.offer = null;       // the pending call_offered data (kind: inbound, consult, direct, callback)
    this.wrapupInfo = null;  // the wrapup_started data while the agent is in wrap-up
    this.currentVideoMode = '';  // the service's video mode, once read or set
    this.activeCallList = [];  // latest active_calls.calls (supervisors, admins)
    this.callbackList = [];    // latest callbacks.callbacks
    this.screenSource = opts.screenSource || null;

    this._screen = null;     // {stream, track, sender, seen} while sharing the screen
    this._audioEnabled = true;
    this._videoEnabled = true;

    this._nextId = 1;
    this._pending = new Map();  // id -> {resolve, reject, timer}
    this._pingTimer = 0;
    this._abortConnect = null;  // rejects a connect() still waiting for welcome
    this._resetPeerState();
  }

  // ---- connection ----

  /** Opens the WebSocket; resolves with the welcome data. */
  connect(token) {
    if (this.ws) this.close();
    const url = new URL(this.url);
    url.searchParams.set('token', token);
    const ws = new WebSocket(url);
    this.ws = ws;
    this._setWsState('connecting');

    return new Promise((resolve, reject) => {
      let welcomed = false;
      const onWelcome = (ev) => { welcomed = true; this._abortConnect = null; resolve(ev.detail); };
      this.addEventListener('welcome', onWelcome, { once: true });
      this._abortConnect = (err) => {
        this.removeEventListener('welcome', onWelcome);
        this._abortConnect = null;
        reject(err);
      };

      ws.onopen = () => this._setWsState('open');
      ws.onmessage = (ev) => this._onFrame(ev.data);
      // The browser hides the HTTP status of a refused upgrade; a close before welcome is
      // almost always the server's 401.
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this._onClosed(ev.code, ev.reason);
        if (!welcomed) {
          this._abortConnect?.(new VccError('unauthorized_or_unreachable',
            `connection closed before welcome (code ${ev.code}); the token may be invalid or expired, or the server is down`));
        }
      };
    });
  }

  /** Closes the call (locally) and the socket. */
  close() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onclose = ws.onmessage = ws.onopen = null;
    ws.close(1000, 'client closing');
    this._onClosed(1000, 'client closing');
    this._abortConnect?.(new VccError('not_connected', 'connection closed by the client'));
  }

  /**
   * Sends a message with an id; resolves with the ack data, rejects with a VccError
   * (`server` true and the protocol's `code` when the server answered `error`).
   */
  request(type, data = {}) {
    const id = `c${this._nextId++}`;
    return new Promise((resolve, reject) => {
      try {
        this._sendFrame({ v: PROTOCOL_VERSION, type, id, data });
      } catch (err) {
        reject(err);
        return;
      }
      const timer = this.requestTimeoutMs > 0 ? setTimeout(() => {
        this._pending.delete(id);
        reject(new VccError('timeout', `no answer to ${type} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs) : 0;
      this._pending.set(id, { resolve, reject, timer, type });
    });
  }

  /** Sends a message without an id (no ack; a refusal still arrives as an `error` event). */
  notify(type, data = {}) {
    this._sendFrame({ v: PROTOCOL_VERSION, type, data });
  }

  // ---- protocol actions ----

  join(queue) { return this.request('join', queue ? { queue } : {}); }
  setAgentState(state) { return this.request('agent_state', { state }); }
  accept(callId) { return this.request('accept', { call_id: callId }); }
  decline(callId) { return this.request('decline', { call_id: callId }); }
  ping() { this.notify('ping'); }

  /**
   * Leaves the call (or the queue; a supervisor: stops monitoring); media stops at once rather
   * than on call_ended.
   */
  async hangup() {
    const callId = this.callId;
    const p = this.request('hangup');
    this._stopScreenLocally('hangup');
    this._closePeer();
    await p;
    if (this.callId === callId) this._endCall();
  }

  // ---- call controls (docs/protocol.md, shared/RULES.md); each resolves on ack, rejects with
  // the server's VccError (code such as hold_in_conference, mode_forbids_multiparty) ----

  /** Seeks help (R8, R9): kind agent | queue | number; transfer true for a consultative transfer (R18). */
  consult({ kind = 'agent', target, transfer = false } = {}) {
    return this.request('consult', { kind, target: String(target ?? '').trim(), transfer: !!transfer });
  }
  /** Drops the helper, or stops the ringing (R9, R18). */
  cancelConsult() { return this.request('cancel_consult'); }
  /** The helper has answered: everyone talks together (R9). */
  conference() { return this.request('conference'); }
  /** Consultative transfer: this agent drops out, the helper takes control (R18). */
  completeTransfer() { return this.request('complete_transfer'); }
  /** Blind transfer to an agent, a queue or a number, at once (R17). */
  transfer({ kind = 'queue', target } = {}) {
    return this.request('transfer', { kind, target: String(target ?? '').trim() });
  }
  /** Holds a party (default: the customer) (R15, R16). */
  hold(party) { return this.request('hold', party ? { party } : {}); }
  /** Takes a party (default: the customer) off hold. */
  resume(party) { return this.request('resume', party ? { party } : {}); }
  /** Ends the call for everyone (R13, controlling agent). */
  endCall() { return this.request('end_call'); }
  /** MCU layout (R21): equal | max_customer | max_agent | max_third. */
  layout(name) { return this.request('layout', { layout: name }); }
  /** Starts or stops recording on demand (R26). */
  record(on) { return this.request('record', { on: !!on }); }
  /** Adds a tag to the recording (R26: only while recording). */
  tag(text) { return this.request('tag', { text: String(text ?? '') }); }

  /** Keys digits (0-9 * # A-D) to a phone party of the call, e.g. an external IVR. */
  dtmf(to, digits) { return this.request('dtmf', { to, digits: String(digits ?? '') }); }
  /** Ends wrap-up with one of the queue's reasons (R2, R27). */
  async wrapup(reason) {
    await this.request('wrapup', { reason });
    this.wrapupInfo = null;
  }
  /** A direct call to an agent or a number (R29); the server then sends media_start. */
  dial({ kind = 'agent', target } = {}) {
    return this.request('dial', { kind, target: String(target ?? '').trim() });
  }
  /** Supervisor: monitor a call silently, or barge in (R23, R24); again to switch; hangup() stops. */
  monitor(callId, barge = false) { return this.request('monitor', { call_id: callId, barge: !!barge }); }
  /** Supervisor: stops monitoring. */
  stopMonitor() { return this.hangup(); }
  /** Supervisor, admin: resolves with the calls in progress ([{call_id, queue, customer, agents, waiting}]). */
  async activeCalls() {
    const d = await this._query('active_calls', {}, 'active_calls');
    return d?.calls || [];
  }
  /** Reads the service's video mode, or (admin) sets it first; resolves with the mode (R6). */
  async videoMode(mode) {
    const d = await this._query('video_mode', mode ? { mode } : {}, 'video_mode');
    return d?.mode || '';
  }
  /**
   * Schedules a callback (R30): {due: Date | RFC 3339, reason, personal: true | queue: 'general',
   * customer, name, number, call_id}. Resolves with the stored callback.
   */
  scheduleCallback(cb = {}) {
    const data = { ...cb, due: rfc3339(cb.due) };
    if (data.personal) delete data.queue;
    else delete data.personal;
    for (const k of Object.keys(data)) if (data[k] === '' || data[k] === undefined) delete data[k];
    return this._query('callback_schedule', data, 'callback');
  }
  /** Resolves with the scheduled callbacks this user may see. */
  async listCallbacks() {
    const d = await this._query('callback_list', {}, 'callbacks');
    return d?.callbacks || [];
  }
  moveCallback(id, due) { return this.request('callback_move', { id, due: rfc3339(due) }); }
  cancelCallback(id) { return this.request('callback_cancel', { id }); }

  /**
   * Starts (on) or stops the screen share: a second video track (R19, R20, R22). The server is asked
   * first; a refusal (e.g. screenshare_needs_all_video) stops the captured stream and rejects.
   * @param {boolean} on
   * @param {{stream?: MediaStream}} [opts] a stream to share instead of capturing one
   */
  async screenshare(on, opts = {}) {
    if (!on) {
      const s = this._screen;
      // The server already stopped it (R20), or it never started there: nothing to tell.
      const tell = s && !(s.seen && this.call?.screen !== this.user?.id);
      this._stopScreenLocally('stopped');
      if (tell || (!s && this.call?.screen && this.call.screen === this.user?.id)) {
        await this.request('screenshare', { on: false });
      }
      return;
    }
    if (this._screen) return;
    if (!this.pc || !this.callId) throw new VccError('invalid_state', 'not in a call');
    const stream = opts.stream || await this._captureScreen();
    const track = stream.getVideoTracks()[0];
    if (!track) {
      for (const t of stream.getTracks()) t.stop();
      throw new VccError('no_screen', 'the screen capture has no video');
    }
    const share = { stream, track, sender: null, seen: false };
    this._screen = share;
    // The browser's own "Stop sharing" button ends the track.
    track.addEventListener('ended', () => {
      if (this._screen === share) this.screenshare(false).catch((err) => this._localError(err));
    });
    try {
      await this.request('screenshare', { on: true });
    } catch (err) {
      if (this._screen === share) this._stopScreenLocally(err.code || 'refused');
      throw err;
    }
    if (this._screen !== share || !this.pc) return;  // stopped meanwhile
    share.sender = this.addLocalTrack(track, stream);
    if (this.call?.screen && this.call.screen === this.user?.id) share.seen = true;
    this._emit('screen_share', { on: true, stream, reason: '' });
  }

  /** True while this client shares its screen. */
  get screenSharing() { return !!this._screen; }

  // Sends a request whose answer is a message of replyType (sent before the ack); resolves with it.
  async _query(type, data, replyType) {
    let reply;
    let got;
    const arrived = new Promise((resolve) => { got = resolve; });
    const on = (ev) => { reply = ev.detail; got(ev.detail); };
    this.addEventListener(replyType, on);
    try {
      await this.request(type, data);
      if (reply !== undefined) return reply;
      let timer = 0;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new VccError('timeout', `no ${replyType} after ${type}`)), this.requestTimeoutMs || DEFAULT_REQUEST_TIMEOUT_MS);
      });
      try {
        return await Promise.race([arrived, late]);
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.removeEventListener(replyType, on);
    }
  }

  async _captureScreen() {
    if (this.screenSource) return this.screenSource();
    if (!navigator.mediaDevices?.getDisplayMedia) {
      throw new VccError('not_supported', 'this browser cannot share the screen');
    }
    return navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  }

  // Ends the local side of a screen share: stops capturing and sending (renegotiates).
  _stopScreenLocally(reason) {
    const s = this._screen;
    if (!s) return;
    this._screen = null;
    for (const t of s.stream.getTracks()) t.stop();
    if (s.sender && this.pc) {
      try { this.pc.removeTrack(s.sender); } catch { /* the connection is closing */ }
    }
    this._emit('screen_share', { on: false, stream: null, reason });
  }

  // ---- local media ----

  /** Replaces the stream sent in calls; an ongoing call switches tracks without renegotiating when it can. */
  setLocalStream(stream) {
    this.localStream = stream;
    this._applyEnabled();
    if (this.pc) this._attachLocalTracks();
  }

  /**
   * Sends an extra track in the current call (e.g. a screen share as a second video track);
   * renegotiates. Returns the RTCRtpSender.
   */
  addLocalTrack(track, stream = new MediaStream([track])) {
    if (!this.pc) throw new VccError('invalid_state', 'not in a call');
    return this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] }).sender;
  }

  /** Stops sending a track added with addLocalTrack; renegotiates. */
  removeLocalTrack(sender) {
    if (this.pc && sender) this.pc.removeTrack(sender);
  }

  get audioEnabled() { return this._audioEnabled; }
  get videoEnabled() { return this._videoEnabled; }

  /** Mutes/unmutes the microphone; tells the others when in a call. */
  setAudioEnabled(on) {
    this._audioEnabled = !!on;
    return this._mediaStateChanged();
  }

  /** Turns the camera track on/off (black frames while off); tells the others when in a call. */
  setVideoEnabled(on) {
    this._videoEnabled = !!on;
    return this._mediaStateChanged();
  }

  /** All live remote tracks in one stream, for a single <video> in a 1:1 call. */
  get remoteStream() { return this._remoteCombined; }
  /** The remote streams as the server grouped them (by msid). */
  get remoteStreams() { return [...this._remoteStreams.values()]; }

  /** A plain snapshot for UIs and tests. */
  get state() {
    return {
      actions: this.call?.actions || [],
      parties: this.call?.parties || [],
      consult: this.call?.consult || null,
      conference: !!this.call?.conference,
      wrapup: this.wrapupInfo,
      offer: this.offer,
      screenSharing: this.screenSharing,
      ws: this.wsState,
      pc: this.pc ? this.pc.connectionState : 'none',
      callState: this.callState,
      callId: this.callId,
      agentState: this.agentState,
      queuePosition: this.queuePosition,
      user: this.user,
      audio: this._audioEnabled,
      video: this._videoEnabled,
    };
  }

  // ---- stats (for tests and the UI) ----

  /** What arrived from the server in this call; zeros when not in a call. */
  async inboundStats() {
    const out = { videoWidth: 0, videoHeight: 0, framesDecoded: 0, framesPerSecond: 0,
      audioPacketsReceived: 0, videoPacketsReceived: 0, audioBytesReceived: 0, videoBytesReceived: 0 };
    if (!this.pc) return out;
    const stats = await this.pc.getStats();
    stats.forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video') {
        out.videoWidth = Math.max(out.videoWidth, r.frameWidth || 0);
        out.videoHeight = Math.max(out.videoHeight, r.frameHeight || 0);
        out.framesDecoded += r.framesDecoded || 0;
        out.framesPerSecond = Math.max(out.framesPerSecond, r.framesPerSecond || 0);
        out.videoPacketsReceived += r.packetsReceived || 0;
        out.videoBytesReceived += r.bytesReceived || 0;
      } else if (r.kind === 'audio') {
        out.audioPacketsReceived += r.packetsReceived || 0;
        out.audioBytesReceived += r.bytesReceived || 0;
      }
    });
    return out;
  }

  /** What this client sent in this call; zeros when not in a call. */
  async outboundStats() {
    const out = { audioPacketsSent: 0, videoPacketsSent: 0, framesEncoded: 0, videoWidth: 0 };
    if (!this.pc) return out;
    const stats = await this.pc.getStats();
    stats.forEach((r) => {
      if (r.type !== 'outbound-rtp') return;
      if (r.kind === 'video') {
        out.videoPacketsSent += r.packetsSent || 0;
        out.framesEncoded += r.framesEncoded || 0;
        out.videoWidth = Math.max(out.videoWidth, r.frameWidth || 0);
      } else if (r.kind === 'audio') {
        out.audioPacketsSent += r.packetsSent || 0;
      }
    });
    return out;
  }

  // ---- inbound messages ----

  _onFrame(raw) {
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      this._localError(new VccError('bad_message', 'server sent a frame that is not JSON'));
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    const data = msg.data && typeof msg.data === 'object' ? msg.data : {};

    const answered = this._settle(msg, data);
    this._track(msg.type, data);
    this._emit('message', msg);
    // `answered`: the error also rejected a request's Promise, so a UI showing both can skip one.
    this._emit(msg.type, msg.type === 'error' ? { ...data, re: msg.re || '', answered } : data);
  }

  // Resolves or rejects the request this message answers; true when there was one.
  _settle(msg, data) {
    if ((msg.type !== 'ack' && msg.type !== 'error') || !msg.re) return false;
    const p = this._pending.get(msg.re);
    if (!p) return false;
    this._pending.delete(msg.re);
    clearTimeout(p.timer);
    if (msg.type === 'ack') p.resolve(data);
    else p.reject(new VccError(data.code || 'error', data.message, { re: msg.re, server: true }));
    return true;
  }

  // Keeps the client's view of the session current, and drives the peer connection.
  _track(type, data) {
    switch (type) {
      case 'welcome':
        this.user = data.user || null;
        break;
      case 'agent_state':
        this.agentState = data.state || '';
        if (this.agentState !== 'wrapup') this.wrapupInfo = null;
        if (this.agentState !== 'ringing') this.offer = null;
        break;
      case 'call_offered':
        this.offer = data;
        break;
      case 'offer_withdrawn':
        if (!this.offer || !data.call_id || this.offer.call_id === data.call_id) this.offer = null;
        break;
      case 'wrapup_started':
        this.wrapupInfo = data;
        break;
      case 'video_mode':
        this.currentVideoMode = data.mode || '';
        break;
      case 'active_calls':
        this.activeCallList = Array.isArray(data.calls) ? data.calls : [];
        break;
      case 'callbacks':
        this.callbackList = Array.isArray(data.callbacks) ? data.callbacks : [];
        break;
      case 'queue_position':
        this.queuePosition = data.position || 0;
        break;
      case 'call_state':
        if (data.state === 'ended') {
          if (!data.call_id || data.call_id === this.callId) this._endCall();
        } else {
          this.call = data;
          this.callId = data.call_id || this.callId;
          this.callState = data.state || '';
          if (data.state !== 'queued') this.queuePosition = 0;
          if (this.offer && this.offer.call_id === data.call_id && data.state === 'connected' &&
            (data.parties || []).some((p) => p.id === this.user?.id)) this.offer = null;
          this._checkScreen(data);
        }
        break;
      case 'call_ended':
        if (!data.call_id || !this.callId || data.call_id === this.callId) this._endCall();
        break;
      case 'media_start':
        this._startMedia(data);
        break;
      case 'offer':
        this._signal(() => this._onRemoteOffer(data.sdp));
        break;
      case 'answer':
        this._signal(() => this._onRemoteAnswer(data.sdp));
        break;
      case 'candidate':
        this._signal(() => this._onRemoteCandidate(data));
        break;
    }
  }

  // ---- peer connection ----

  _resetPeerState() {
    this._sigChain = Promise.resolve();
    this._pendingCandidates = [];
    this._local = {};                 // kind -> our own transceiver (camera / microphone)
    this._remoteStreams = new Map();  // msid (or ORPHAN) -> MediaStream
    this._remoteCombined = null;
  }

  _startMedia(data) {
    this._closePeer();
    if (data.call_id) this.callId = data.call_id;
    const iceServers = Array.isArray(data.ice_servers) ? data.ice_servers : [];
    let pc;
    try {
      pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    } catch (err) {
      this._localError(new VccError('webrtc', `cannot create RTCPeerConnection: ${err.message}`));
      return;
    }
    this.pc = pc;

    pc.onicecandidate = ({ candidate }) => {
      if (this.pc !== pc) return;
      // A null candidate (or an empty one, in some browsers) ends gathering.
      let c = { candidate: '' };
      if (candidate && candidate.candidate) {
        c = { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex };
        if (candidate.usernameFragment) c.usernameFragment = candidate.usernameFragment;
      }
      this._quietNotify('candidate', c);
    };
    pc.onnegotiationneeded = () => this._signal(() => this._makeOffer(pc));
    pc.ontrack = (ev) => this._onRemoteTrack(ev);
    pc.onconnectionstatechange = () => this._emitPcState(pc);
    pc.oniceconnectionstatechange = () => this._emitPcState(pc);
    pc.onsignalingstatechange = () => this._emitPcState(pc);

    // Adding the tracks fires negotiationneeded, which sends the first offer.
    this._attachLocalTracks();
    this._emitPcState(pc);
    // A mute chosen before the call reaches the others once the call has media.
    if (!this._audioEnabled || !this._videoEnabled) this._mediaStateChanged().catch(() => {});
  }

  // Sends the local tracks; a kind the local stream lacks is still received (recvonly), and a
  // later stream with that kind switches the same transceiver to sendrecv.
  _attachLocalTracks() {
    const pc = this.pc;
    const stream = this.localStream;
    for (const kind of ['audio', 'video']) {
      const track = stream?.getTracks().find((t) => t.kind === kind && t.readyState === 'live') || null;
      const tr = this._local[kind];
      if (!tr) {
        this._local[kind] = track
          ? pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] })
          : pc.addTransceiver(kind, { direction: 'recvonly' });
        continue;
      }
      if (tr.sender.track !== track) {
        tr.sender.replaceTrack(track).catch((err) => this._localError(new VccError('webrtc', err.message)));
      }
      const dir = track ? 'sendrecv' : 'recvonly';
      if (tr.direction !== dir) tr.direction = dir;
    }
  }

  // Serialized behind any server offer, so a collision can only be a server offer arriving while
  // ours is out; _onRemoteOffer resolves that.
  async _makeOffer(pc) {
    if (this.pc !== pc || pc.signalingState !== 'stable') return;
    await pc.setLocalDescription();
    if (this.pc !== pc) return;
    this._sendSdp('offer', pc.localDescription.sdp);
  }

  // Polite peer: a server offer always wins; our own pending offer is rolled back
  // (implicitly, by setRemoteDescription) and negotiationneeded fires again afterwards.
  async _onRemoteOffer(sdp) {
    const pc = this.pc;
    if (!pc) return;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await this._flushCandidates(pc);
    await pc.setLocalDescription();
    if (this.pc !== pc) return;
    this._sendSdp('answer', pc.localDescription.sdp);
  }

  async _onRemoteAnswer(sdp) {
    const pc = this.pc;
    // An answer to an offer we rolled back after a collision: the server dropped that offer too.
    if (!pc || pc.signalingState !== 'have-local-offer') return;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    await this._flushCandidates(pc);
  }

  async _onRemoteCandidate(data) {
    const pc = this.pc;
    if (!pc) return;
    const init = data.candidate
      ? { candidate: data.candidate, sdpMid: data.sdpMid ?? null, sdpMLineIndex: data.sdpMLineIndex ?? null,
        usernameFragment: data.usernameFragment ?? null }
      : { candidate: '' };
    if (!pc.remoteDescription) {
      this._pendingCandidates.push(init);
      return;
    }
    await this._addCandidate(pc, init);
  }

  async _flushCandidates(pc) {
    const list = this._pendingCandidates;
    this._pendingCandidates = [];
    for (const c of list) await this._addCandidate(pc, c);
  }

  async _addCandidate(pc, init) {
    try {
      await pc.addIceCandidate(init.candidate ? init : undefined);
    } catch (err) {
      // End-of-candidates is optional and some browsers refuse it; a bad real candidate matters.
      if (init.candidate) this._localError(new VccError('webrtc', `remote ICE candidate rejected: ${err.message}`));
    }
  }

  // Runs signaling steps one at a time, in arrival order, so SDP and candidates never interleave.
  _signal(step) {
    const pc = this.pc;
    this._sigChain = this._sigChain.then(step).catch((err) => {
      if (this.pc !== pc || !pc) return;
      this._localError(err instanceof VccError ? err : new VccError('webrtc', `negotiation failed: ${err.message}`));
    });
  }

  // Offers and answers carry an id so a bad_sdp refusal names them. The ack is not awaited: the
  // server's answer or next offer must not queue behind it. Server refusals already arrive as
  // `error` events, so only local failures are reported here.
  _sendSdp(type, sdp) {
    this.request(type, { sdp }).catch((err) => {
      if (!err.server && err.code !== 'timeout') this._localError(err);
    });
  }

  _onRemoteTrack(ev) {
    const track = ev.track;
    // A track the server sent without an msid still needs a stream to be played.
    const streams = ev.streams.length ? ev.streams : [this._remoteStreams.get(ORPHAN) || new MediaStream()];
    for (const s of streams) {
      const key = ev.streams.length ? s.id : ORPHAN;
      if (!s.getTracks().includes(track)) s.addTrack(track);
      if (!this._remoteStreams.has(key)) {
        this._remoteStreams.set(key, s);
        // The server removing a track (renegotiation) shows up as removetrack on its stream.
        s.addEventListener('removetrack', () => this._remoteChanged(null));
        s.addEventListener('addtrack', (e) => this._remoteChanged(e.track));
      }
    }
    track.addEventListener('ended', () => this._remoteChanged(null));
    this._remoteChanged(track);
  }

  // A fresh combined stream each time, so a <video> given it reloads with the current tracks.
  _remoteChanged(track) {
    if (!this.pc) return;
    const tracks = new Set();
    for (const s of this._remoteStreams.values()) {
      for (const t of s.getTracks()) if (t.readyState === 'live') tracks.add(t);
    }
    this._remoteCombined = new MediaStream([...tracks]);
    this._emit('remote_stream', { stream: this._remoteCombined, streams: this.remoteStreams, track });
  }

  _emitPcState(pc) {
    if (this.pc !== pc) return;
    this._emit('pc_state', {
      state: pc.connectionState, iceState: pc.iceConnectionState, signalingState: pc.signalingState,
    });
  }

  _closePeer() {
    const pc = this.pc;
    if (!pc) return;
    this.pc = null;
    pc.onicecandidate = pc.onnegotiationneeded = pc.ontrack = null;
    pc.onconnectionstatechange = pc.oniceconnectionstatechange = pc.onsignalingstatechange = null;
    pc.close();
    this._resetPeerState();
    this._emit('pc_state', { state: 'closed', iceState: 'closed', signalingState: 'closed' });
    this._emit('remote_stream', { stream: null, streams: [], track: null });
  }

  // R20: the server stopped our share (a party turned video off); stop capturing too.
  _checkScreen(data) {
    const s = this._screen;
    if (!s || !this.user) return;
    if (data.screen === this.user.id) s.seen = true;
    else if (s.seen) this._stopScreenLocally(data.note || 'stopped by the server');
  }

  _endCall() {
    this._stopScreenLocally('call ended');
    this._closePeer();
    this.callId = '';
    this.callState = '';
    this.call = null;
    this.queuePosition = 0;
  }

  // ---- helpers ----

  _applyEnabled() {
    for (const t of this.localStream?.getAudioTracks() || []) t.enabled = this._audioEnabled;
    for (const t of this.localStream?.getVideoTracks() || []) t.enabled = this._videoEnabled;
  }

  async _mediaStateChanged() {
    this._applyEnabled();
    const state = { audio: this._audioEnabled, video: this._videoEnabled };
    this._emit('local_media', state);
    if (!this.pc || !this.callId) return state;
    await this.request('media_state', state);
    return state;
  }

  _quietNotify(type, data) {
    try {
      this.notify(type, data);
    } catch (err) {
      this._localError(err);
    }
  }

  _sendFrame(msg) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      throw new VccError('not_connected', `cannot send ${msg.type}: not connected`);
    }
    const text = JSON.stringify(msg);
    if (text.length * 3 > MAX_FRAME_BYTES && new TextEncoder().encode(text).length > MAX_FRAME_BYTES) {
      throw new VccError('too_large', `${msg.type} message is over 64 KiB`);
    }
    ws.send(text);
  }

  _onClosed(code, reason) {
    clearInterval(this._pingTimer);
    this._pingTimer = 0;
    for (const [id, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new VccError('not_connected', `connection closed before the answer to ${p.type}`));
      this._pending.delete(id);
    }
    this._endCall();
    this.agentState = '';
    this.offer = null;
    this.wrapupInfo = null;
    this._setWsState('closed', code, reason);
  }

  _setWsState(state, code = 0, reason = '') {
    this.wsState = state;
    if (state === 'open' && this.pingIntervalMs > 0) {
      clearInterval(this._pingTimer);
      this._pingTimer = setInterval(() => { try { this.ping(); } catch { /* closing */ } }, this.pingIntervalMs);
    }
    this._emit('ws_state', { state, code, reason });
  }

  _localError(err) {
    this._emit('local_error', err);
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** A Date, a datetime-local value ("2026-11-22T09:30", local time) or an RFC 3339 string -> RFC 3339 (UTC). */
export function rfc3339(v) {
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const s = String(v ?? '').trim();
  if (!s) return s;
  if (/[zZ]|[+-]\d\d:\d\d$/.test(s)) return s;
  const d = new Date(s);  // no zone: the browser's local time
  return Number.isNaN(d.getTime()) ? s : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function defaultWsUrl() {
  const loc = globalThis.location;
  if (!loc) return 'ws://127.0.0.1/ws';
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/ws`;
}
