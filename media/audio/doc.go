// Package audio holds the audio codecs and buffers that turn a party's RTP audio into 48 kHz PCM for
// the MCU mixer and back: an Opus wrapper over libopus (cgo, github.com/hraban/opus), pure-Go G.711
// (PCMU/PCMA) with an 8 kHz <-> 48 kHz resampler for phone legs, and a per-source jitter buffer.
//
// It imports no package of this project (the media layer rule in shared/DESIGN.md). Every type here
// reuses its buffers: after construction, the per-packet and per-frame calls do not allocate.
//
// Building needs libopus and libopusfile headers (apt: libopus-dev libopusfile-dev pkg-config);
// without libopusfile-dev, build with -tags nolibopusfile.
package audio
