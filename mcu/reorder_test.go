package mcu

import (
	"reflect"
	"testing"
	"time"
)

// Packets come out in sequence order: a late one fills its gap; one that never comes is given up
// after the wait (or when the window fills), late duplicates are dropped, a jump restarts.
func TestReorder(t *testing.T) {
	t0 := time.Unix(0, 0)
	var out, freed []uint16
	r := newReorder()
	push := func(seq uint16, at time.Duration) {
		r.push(int32(seq), seq, t0.Add(at), func(i int32) { out = append(out, uint16(i)) }, func(i int32) { freed = append(freed, uint16(i)) })
	}
	push(10, 0)
	push(12, 1*time.Millisecond) // 11 is late
	push(13, 2*time.Millisecond)
	if !reflect.DeepEqual(out, []uint16{10}) {
		t.Fatalf("before the late packet: %v", out)
	}
	push(11, 5*time.Millisecond) // the retransmission
	if !reflect.DeepEqual(out, []uint16{10, 11, 12, 13}) {
		t.Fatalf("after it: %v", out)
	}
	push(11, 6*time.Millisecond) // a duplicate of something delivered
	if !reflect.DeepEqual(freed, []uint16{11}) {
		t.Fatalf("late duplicate not dropped: %v", freed)
	}
	out = nil
	push(15, 10*time.Millisecond) // 14 never comes
	push(16, 20*time.Millisecond)
	if len(out) != 0 {
		t.Fatalf("gave up too soon: %v", out)
	}
	push(17, 10*time.Millisecond+reorderWait)
	if !reflect.DeepEqual(out, []uint16{15, 16, 17}) {
		t.Fatalf("after the wait: %v", out)
	}
	out = nil
	push(20, 100*time.Millisecond) // 18 and 19 lost together: one wait, not two
	push(21, 100*time.Millisecond+reorderWait)
	if !reflect.DeepEqual(out, []uint16{20, 21}) {
		t.Fatalf("a burst loss: %v", out)
	}
	out = nil
	push(1000, 0) // a jump
	push(1001, 0)
	if !reflect.DeepEqual(out, []uint16{1000, 1001}) {
		t.Fatalf("after a jump: %v", out)
	}
	out = nil
	for s := uint16(1003); s < 1003+reorderSlots/2; s++ { // 1002 lost; the window fills
		push(s, 0)
	}
	if len(out) == 0 || out[0] != 1003 {
		t.Fatalf("a full window did not give up the missing packet: %v", out)
	}
}
