// Package vp8 is the MCU's VP8 codec layer: a thin cgo binding to libvpx (Encoder, Decoder) and
// the RTP helpers around it (Packetizer, Depacketizer, RFC 7741).
//
// It is our own binding rather than pion/mediadevices' codec because that encoder calls
// vpx_codec_enc_config_set on every frame (22-36 ms per 720p frame, against 3.6-4.5 ms for the
// encode itself at cpu_used -6..-8, CBR, one thread) and exposes no cpu_used. Here the encoder is
// configured once, reconfigured only when the bitrate actually changes, and encodes with the
// realtime deadline, CBR, one thread, no lookahead and error resilience on.
//
// Building needs libvpx's headers and pkg-config (Debian/Ubuntu: apt-get install libvpx-dev
// pkg-config); see README.md.
package vp8
