#!/usr/bin/env python3
"""Generate media/moh/hold.opus, the music-on-hold loop embedded in the server.

The music is synthesised here from sine waves, so it is royalty-free by construction: a slow
Cmaj7 - Am7 - Fmaj7 - G6 progression (4 s per chord, 16 s in all) played as a soft bell-like
arpeggio over a quiet detuned pad and a bass note.

Seamless looping. The server loops the Opus packets as RTP, so the receiver decodes the last
packet and then the first without a break. An encoder starts from silence and its first frame
carries ~6.5 ms of warm-up (the pre-skip), which would click at every loop point. So the loop is
rendered circularly (note tails wrap to the start), encoded three times in a row, and only the
packets of the middle period are kept: they were encoded with real audio before and after them,
and one period is a whole number of 20 ms frames, so packet N+1 follows packet N the same way the
last packet is followed by the first.

Run from the repository root (needs python3 and opusenc from opus-tools; neither is needed to
build or test the server):

    python3 media/moh/gen/gen_hold.py media/moh/hold.opus

Deterministic for a given opusenc/libopus version (the committed file: opus-tools 0.2, libopus
1.3.1).
"""

import array
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 48000
FRAME = 960  # samples per 20 ms packet
PERIOD_FRAMES = 800  # 16 s
PERIOD = PERIOD_FRAMES * FRAME
BITRATE = "32"  # kbit/s, mono
PRESKIP = 312  # libopus's encoder delay at 48 kHz; only file players use it, RTP ignores it
SERIAL = 0x766363  # fixed, so the output is reproducible

BAR = 4.0  # seconds per chord
STEP = 0.5  # seconds per arpeggio note

# MIDI note numbers: (pad/bass root, arpeggio notes up and back down)
CHORDS = [
    (48, [60, 64, 67, 71, 72, 71, 67, 64]),  # Cmaj7
    (45, [57, 60, 64, 67, 69, 67, 64, 60]),  # Am7
    (41, [53, 57, 60, 64, 65, 64, 60, 57]),  # Fmaj7
    (43, [55, 59, 62, 64, 67, 64, 62, 59]),  # G6
]
PAD = {48: [48, 55, 64], 45: [45, 52, 60], 41: [41, 48, 57], 43: [43, 50, 59]}


def hz(note):
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def add(buf, start, n, fn):
    """Adds fn(i) for i in [0, n) at buf[start+i], wrapping around the period."""
    for i in range(n):
        buf[(start + i) % PERIOD] += fn(i)


def bell(buf, t0, note, amp, length=2.6):
    """A soft electric-piano-like note: sine plus quickly fading harmonics, gentle attack."""
    f = hz(note)
    n = int(length * RATE)
    attack = int(0.012 * RATE)
    release = int(0.3 * RATE)
    w = 2 * math.pi * f / RATE

    def s(i):
        t = i / RATE
        env = math.exp(-t / 0.9)
        if i < attack:
            env *= 0.5 - 0.5 * math.cos(math.pi * i / attack)
        if i > n - release:
            env *= 0.5 - 0.5 * math.cos(math.pi * (n - i) / release)
        return amp * env * (
            math.sin(w * i)
            + 0.22 * math.exp(-t / 0.25) * math.sin(2 * w * i)
            + 0.06 * math.exp(-t / 0.12) * math.sin(3 * w * i)
        )

    add(buf, int(t0 * RATE), n, s)


def pad(buf, t0, notes, amp, length):
    """A slow-swelling chord of slightly detuned sine pairs (a gentle chorus beat)."""
    n = int(length * RATE)
    fade = int(1.0 * RATE)
    ws = []
    for note in notes:
        f = hz(note)
        ws += [2 * math.pi * (f - 0.6) / RATE, 2 * math.pi * (f + 0.6) / RATE]
    a = amp / len(ws)

    def s(i):
        env = 1.0
        if i < fade:
            env = 0.5 - 0.5 * math.cos(math.pi * i / fade)
        elif i > n - fade:
            env = 0.5 - 0.5 * math.cos(math.pi * (n - i) / fade)
        return a * env * sum(math.sin(w * i) for w in ws)

    add(buf, int(t0 * RATE), n, s)


def bass(buf, t0, note, amp):
    f = hz(note) / 2
    n = int(3.5 * RATE)
    attack = int(0.03 * RATE)
    w = 2 * math.pi * f / RATE

    def s(i):
        env = math.exp(-i / RATE / 1.4)
        if i < attack:
            env *= i / attack
        if i > n - attack:
            env *= (n - i) / attack
        return amp * env * math.sin(w * i)

    add(buf, int(t0 * RATE), n, s)


def render():
    buf = [0.0] * PERIOD
    for bar, (root, arp) in enumerate(CHORDS):
        t = bar * BAR
        pad(buf, t - 0.5, PAD[root], 0.35, BAR + 1.0)  # overlaps the neighbours: crossfade
        bass(buf, t, root, 0.22)
        for k, note in enumerate(arp):
            bell(buf, t + k * STEP, note, 0.20 if k % 4 else 0.26)
    peak = max(abs(x) for x in buf)
    gain = 0.5 / peak  # -6 dBFS peak: gentle, headroom for the codec
    return array.array("h", (int(round(x * gain * 32767)) for x in buf))


def ogg_crc(data):
    crc = 0
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def read_packets(path):
    """Splits an Ogg file into packets using the page lacing values."""
    data = open(path, "rb").read()
    packets, pending, off = [], b"", 0
    while off < len(data):
        assert data[off : off + 4] == b"OggS", "bad page"
        nseg = data[off + 26]
        lacing = data[off + 27 : off + 27 + nseg]
        body = off + 27 + nseg
        for lv in lacing:
            pending += data[body : body + lv]
            body += lv
            if lv < 255:
                packets.append(pending)
                pending = b""
        off = body
    return packets


def page(header_type, granule, seq, packets):
    lacing = b""
    for p in packets:
        lacing += b"\xff" * (len(p) // 255) + bytes([len(p) % 255])
    assert len(lacing) <= 255
    hdr = struct.pack("<4sBBqIIIB", b"OggS", 0, header_type, granule, SERIAL, seq, 0, len(lacing))
    raw = bytearray(hdr + lacing + b"".join(packets))
    struct.pack_into("<I", raw, 22, ogg_crc(raw))
    return bytes(raw)


def write_ogg(path, packets):
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, PRESKIP, RATE, 0, 0)
    vendor = b"vcc gen_hold.py (libopus via opusenc)"
    comments = [
        b"TITLE=vcc music on hold",
        b"COMMENT=synthesised by media/moh/gen/gen_hold.py; royalty-free, CC0",
    ]
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    for c in comments:
        tags += struct.pack("<I", len(c)) + c
    out = [page(0x02, 0, 0, [head]), page(0x00, 0, 1, [tags])]
    per_page = 50  # one second of audio per page
    granule = 0
    for i in range(0, len(packets), per_page):
        chunk = packets[i : i + per_page]
        granule += FRAME * len(chunk)
        last = i + per_page >= len(packets)
        out.append(page(0x04 if last else 0x00, granule, len(out), chunk))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def main():
    dst = sys.argv[1] if len(sys.argv) > 1 else "hold.opus"
    loop = render()
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "loop3.wav")
        with wave.open(wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(loop.tobytes() * 3)
        enc = os.path.join(tmp, "loop3.opus")
        subprocess.run(
            ["opusenc", "--quiet", "--music", "--cvbr", "--bitrate", BITRATE, "--framesize", "20",
             "--comp", "10", "--serial", "1", wav, enc],
            check=True,
        )
        packets = read_packets(enc)[2:]  # drop OpusHead, OpusTags
    middle = packets[PERIOD_FRAMES : 2 * PERIOD_FRAMES]
    assert len(middle) == PERIOD_FRAMES, len(packets)
    write_ogg(dst, middle)
    print(f"{dst}: {len(middle)} packets, {len(middle) * FRAME / RATE:.2f} s, "
          f"{os.path.getsize(dst)} bytes")


if __name__ == "__main__":
    main()
