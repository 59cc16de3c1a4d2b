package signaling

import (
	"testing"

	"github.com/pion/rtcp"

	"github.com/contactcenter/vcc/media"
)

type feedbackSource struct {
	fakeSource
	loss []uint8
}

func (f *feedbackSource) ReportLoss(_ media.Sink, fl uint8) { f.loss = append(f.loss, fl) }
func (f *feedbackSource) ReportEstimate(media.Sink, uint64) {}

// A receiver report reaches the source that feeds the track, for this track's stream only: the MCU
// sets a composite's bitrate from it.
func TestReceiverReportReachesSource(t *testing.T) {
	src := &feedbackSource{fakeSource: fakeSource{fan: media.NewFanout(nil)}}
	tr := newOutTrack(src, "s")
	tr.bound.Store(&binding{ssrc: 42})
	tr.reportLoss(src, []rtcp.ReceptionReport{{SSRC: 7, FractionLost: 200}, {SSRC: 42, FractionLost: 64}})
	if len(src.loss) != 1 || src.loss[0] != 64 {
		t.Fatalf("reported %v, want the block for ssrc 42 only ([64])", src.loss)
	}
}
