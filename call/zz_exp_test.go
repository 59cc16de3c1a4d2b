package call

import "testing"

func TestZZWrapupLost(t *testing.T) {
	lost := 0
	for i := 0; i < 200; i++ {
		st := newFakeStore()
		h := &harness{t: t, clk: newFakeClock(), rooms: newRoomSet()}
		c, err := NewCenter(Config{Queues: []QueueConfig{{Name: "sales"}}, OfferTimeout: testTimeout}, h.rooms.factory, WithClock(h.clk), WithLogger(quietLog()), WithStore(st))
		if err != nil {
			t.Fatal(err)
		}
		h.c = c
		ann, zoe := h.customer("ann"), h.agent("zoe")
		id := h.enqueue(ann, "sales", 1)
		h.available(zoe)
		h.offered(zoe, id)
		h.accept(zoe, id, ann)
		if err := c.Hangup(h.ctx(), zoe.u); err != nil {
			t.Fatal(err)
		}
		next[WrapupStarted](t, zoe.n)
		h.waitStats(Stats{})
		if err := c.Wrapup(h.ctx(), zoe.u, "done"); err != nil {
			t.Fatal(err)
		}
		if len(st.ofType(id, RecWrapup)) != 1 {
			lost++
		}
		c.Close()
	}
	t.Logf("lost %d/200", lost)
}
