// Package record records calls (RULES.md R26) to WebM files: VP8 video and Opus audio exactly as
// they travel in RTP, without transcoding.
//
// The container is written by github.com/at-wat/ebml-go (its webm and mkvcore packages): a
// maintained, pure-Go Matroska/EBML writer, so recording adds no cgo and no codec library, and it
// writes the seek index (Cues) and the duration that make a recording seekable in a browser. Its
// documented contracts are honoured and its sharp edges kept away: blocks reach it already in
// order (its own sorter drops late blocks silently), its fatal handler records instead of
// panicking, and the file under it never reports a write error (see output).
//
// Layout. A Writer owns one file: EBML header, Segment { SeekHead, Info (1 ms timecode scale,
// DateUTC = when the Writer was created, Duration), Tracks, reserved space for Cues, Clusters of
// SimpleBlocks }. Track n+1 is the n-th Track given to NewWriter: V_VP8 with the size read from
// its first keyframe, A_OPUS with an OpusHead (48 kHz, pre-skip 0). A VP8 block is one whole
// frame, reassembled by media/vp8's Depacketizer, keyframe-flagged; an Opus block is one RTP
// payload. Clusters start at a video keyframe at least 1 s after the previous cluster, or after
// 10 s.
//
// An Endpoint is the call.Endpoint the media room attaches sources to, like a silent monitor. In
// Mixed mode (MCU) it writes <dir>/<name>.webm; in PerParty mode (SFU) <dir>/<party>.webm per
// party, each holding that party's VP8 and Opus. One directory per call keeps a call's files
// together.
//
// Sync. Each track's first packet is placed at its wall-clock arrival relative to the file's
// start, and every later packet at that place plus its RTP time since (32-bit wrap unwrapped; 90
// kHz video, 48 kHz audio). Network jitter therefore does not move blocks, and tracks that start
// at different times keep their true offset; what remains is the difference in the first
// packets' network delay, a few ms. (RTCP sender reports would remove even that, but they do not
// cross the media.Sink seam.) Timecodes never go backwards within a track nor below zero; a
// packet whose timestamp disagrees with the wall clock by more than 5 s is dropped unless the
// next one confirms the jump (a restarted sender), which re-anchors the track.
//
// Cost. The sinks assemble and stamp frames and hand a copy to the file's goroutine through a
// bounded queue: they never block on the disk, and they drop (and count) when the queue is full.
package record
