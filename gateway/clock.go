package gateway

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/contactcenter/vcc/media/audio"
)

// legClock is the gateway's one 20 ms clock: a single goroutine walks the started legs (a
// copy-on-write list) doing each leg's tick. It runs only while there are legs, so an idle
// gateway has no timer. One wake-up per 20 ms for all phones replaces a ticker, a socket reader
// and a sender goroutine per phone: on a VM each wake-up costs about 0.1 ms of CPU.
type legClock struct {
	g       *Gateway
	legs    atomic.Pointer[[]*Leg]
	mu      sync.Mutex // serialises changes to legs and running
	running bool
	missed  atomic.Uint64 // 20 ms ticks the clock fell behind by (the machine was too busy)
}

const tickPeriod = 20 * time.Millisecond

func (c *legClock) init(g *Gateway) {
	c.g = g
	empty := []*Leg{}
	c.legs.Store(&empty)
}

// add starts ticking l, starting the clock if it is not running.
func (c *legClock) add(l *Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := *c.legs.Load()
	if slices.Contains(cur, l) {
		return
	}
	next := append(slices.Clip(cur), l)
	c.legs.Store(&next)
	if !c.running {
		c.running = true
		c.g.wg.Add(1)
		go c.run()
	}
}

// remove stops ticking l; the clock stops at its next tick when no leg is left.
func (c *legClock) remove(l *Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := *c.legs.Load()
	i := slices.Index(cur, l)
	if i < 0 {
		return
	}
	next := slices.Delete(slices.Clone(cur), i, i+1)
	c.legs.Store(&next)
}

// maxCatchUp is how many 20 ms steps one tick may play to catch up after the clock was held up
// (the process starved of CPU, the VM paused). The steps keep each jitter buffer's playout in time
// with the phone's sending; beyond it the backlog is dropped and counted as missed.
const maxCatchUp = 10

func (c *legClock) run() {
	defer c.g.wg.Done()
	t := time.NewTicker(tickPeriod)
	defer t.Stop()
	buf := make([]byte, 1500)
	origin := time.Now()
	var done int64 // steps played since origin
	for now := range t.C {
		legs := *c.legs.Load()
		if len(legs) == 0 {
			c.mu.Lock()
			if len(*c.legs.Load()) == 0 {
				c.running = false
				c.mu.Unlock()
				return
			}
			c.mu.Unlock()
			continue
		}
		// Each step is due at a fixed offset from origin, so late wake-ups never drift.
		steps := int64(now.Sub(origin)/tickPeriod) - done
		if steps < 1 {
			steps = 1
		}
		if steps > maxCatchUp {
			c.missed.Add(uint64(steps - maxCatchUp))
			steps = maxCatchUp
		}
		done = max(done+steps, int64(now.Sub(origin)/tickPeriod))
		for _, l := range legs {
			l.tick(now, int(steps), buf)
		}
	}
}

// seqCount counts the packets a phone's stream should have had, from its sequence numbers
// (RFC 3550 §6.4.1: the extended highest sequence number received minus the first, plus one),
// across SSRC changes.
type seqCount struct {
	ssrc       uint32
	started    bool
	base, high int64
	done       uint64 // expected packets of earlier streams
}

// add records one packet and says whether the expected count changed.
func (s *seqCount) add(ssrc uint32, seq uint16) bool {
	if !s.started || ssrc != s.ssrc {
		if s.started {
			s.done += uint64(s.high - s.base + 1)
		}
		s.started, s.ssrc = true, ssrc
		s.base, s.high = int64(seq), int64(seq)
		return true
	}
	d := int64(int16(seq - uint16(s.high)))
	switch {
	case d > 0:
		s.high += d
		return true
	case d < -3000:
		// Not a late packet but a restart of the sequence (a sender reset): count a new stream.
		s.done += uint64(s.high - s.base + 1)
		s.base, s.high = int64(seq), int64(seq)
		return true
	}
	return false
}

func (s *seqCount) expected() uint64 {
	if !s.started {
		return 0
	}
	return s.done + uint64(s.high-s.base+1)
}

// Stats are the gateway's media counters since it started: legs now, and RTP totals over every
// leg (those ended and those running).
type Stats struct {
	Legs        int    // legs the clock serves now
	Calls       uint64 // legs started since the gateway started
	RTPIn       uint64 // packets received from phones
	RTPLost     uint64 // packets phones sent that never arrived (sequence number gaps)
	Late        uint64 // packets that arrived too late to be played, or overflowed the jitter buffer
	RTPOut      uint64 // packets sent to phones
	SendErrors  uint64 // packets to phones the socket refused (its buffer full, the address bad)
	MissedTicks uint64 // 20 ms steps the clock skipped, far behind (the machine was too busy)
	RTCPOut     uint64 // RTCP reports sent to phones
	SRTPFailed  uint64 // SRTP/SRTCP packets that failed authentication (forged, or keyed wrongly)
}

// totals accumulates the counters of ended legs.
type totals struct {
	mu sync.Mutex
	s  Stats
}

func (t *totals) add(l *Leg, jb audio.JitterStats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	addLeg(&t.s, l, jb)
}

func addLeg(s *Stats, l *Leg, jb audio.JitterStats) {
	rx, exp := l.stats.rx.Load(), l.stats.rxExpected.Load()
	s.RTPIn += rx
	s.RTPLost += exp - min(rx, exp)
	s.Late += jb.Late + jb.Overflow
	s.RTPOut += l.stats.tx.Load()
	s.SendErrors += l.stats.txErr.Load()
	s.RTCPOut += l.stats.rtcpOut.Load()
	s.SRTPFailed += l.stats.srtpFail.Load()
}

// Stats returns the media counters.
func (g *Gateway) Stats() Stats {
	g.totals.mu.Lock()
	s := g.totals.s
	g.totals.mu.Unlock()
	legs := *g.clock.legs.Load()
	s.Legs = len(legs)
	for _, l := range legs {
		addLeg(&s, l, l.rx.jitterStats())
	}
	s.Calls = g.started.Load()
	s.MissedTicks = g.clock.missed.Load()
	return s
}
