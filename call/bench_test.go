package call

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

const benchCalls = 1000

// nopNotifier drops events; a real client's Notify is a non-blocking queue push.
type nopNotifier struct{}

func (nopNotifier) Notify(Event) {}

// nopRoom is a media room that does nothing.
type nopRoom struct{}

func (nopRoom) Join(Endpoint) error { return nil }
func (nopRoom) Leave(PartyID)       {}
func (nopRoom) Close() error        { return nil }
func (nopRoom) Apply(Routing) error { return nil }

func nopRooms(CallID, Mode) (MediaRoom, error) { return nopRoom{}, nil }

// connectedLoops starts n call loops, each with a customer and an agent joined (phase connected).
func connectedLoops(b *testing.B, n int) (loops []*loop, stop func()) {
	b.Helper()
	ctx := context.Background()
	loops = make([]*loop, n)
	done := make(chan struct{}, n)
	for i := range loops {
		l := newLoop(State{ID: CallID(fmt.Sprintf("c%d", i)), Queue: "sales", Phase: PhaseQueued, Mode: ModeSFU, Media: ModeSFU},
			nopRoom{}, nopRooms, nil, SystemClock{}, nopHooks(), quietLog())
		go func() { l.run(); done <- struct{}{} }()
		for _, u := range []UserRef{
			{ID: fmt.Sprintf("cust%d", i), Role: Customer},
			{ID: fmt.Sprintf("agent%d", i), Role: Agent},
		} {
			if err := l.submit(ctx, Join{Party: Party{User: u, Audio: true, Video: true, JoinedAt: time.Now()}}, &leg{ep: newEndpoint(u), n: nopNotifier{}}); err != nil {
				b.Fatal(err)
			}
		}
		loops[i] = l
	}
	return loops, func() {
		for _, l := range loops {
			_ = l.submit(ctx, End{Reason: ReasonShutdown}, nil)
		}
		for range loops {
			<-done
		}
	}
}

// BenchmarkCallLoop measures commands per second through call loops: SetMedia on 1,000 connected
// calls at once, from many goroutines. One op is one command decided by Next and applied (a Publish
// of the new state to both parties), including the round trip to the loop's goroutine.
//
//   - loop:   straight into each call's loop (what signaling does once it holds the call).
//   - center: through Center.SetMedia, which first finds the caller's call on the routing goroutine.
func BenchmarkCallLoop(b *testing.B) {
	b.Run("loop", func(b *testing.B) {
		loops, stop := connectedLoops(b, benchCalls)
		defer stop()
		parties := make([]PartyID, benchCalls) // each call's customer
		for i := range parties {
			parties[i] = PartyID(fmt.Sprintf("cust%d", i))
		}
		var seq atomic.Uint64
		ctx := context.Background()
		b.ReportAllocs()
		b.SetParallelism(32) // 32 x GOMAXPROCS submitters over 1,000 calls
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				i := n % benchCalls
				cmd := SetMedia{Party: parties[i], Audio: n&1 == 0, Video: true}
				if err := loops[i].submit(ctx, cmd, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
	})

	b.Run("center", func(b *testing.B) {
		c, err := NewCenter(Config{Queues: []QueueConfig{{Name: "sales"}}}, nopRooms, WithClock(newFakeClock()), WithLogger(quietLog()))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		ctx := context.Background()
		customers := make([]UserRef, benchCalls)
		for i := range customers {
			a := UserRef{ID: fmt.Sprintf("agent%d", i), Role: Agent}
			customers[i] = UserRef{ID: fmt.Sprintf("cust%d", i), Role: Customer}
			if err := c.SetAgentState(ctx, a, AgentAvailable, nopNotifier{}); err != nil {
				b.Fatal(err)
			}
			// The only available agent is offered the call during Enqueue.
			id, err := c.Enqueue(ctx, customers[i], "sales", newEndpoint(customers[i]), nopNotifier{})
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Accept(ctx, a, id, newEndpoint(a), nopNotifier{}); err != nil {
				b.Fatal(err)
			}
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(32)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				if err := c.SetMedia(ctx, customers[n%benchCalls], n&1 == 0, true); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
	})
}

// BenchmarkIdleCallMemory reports what one waiting call costs the process: 1,000 customers queued
// (no agent), measured as live heap plus goroutine stacks after a GC, divided by the calls. The
// customers' endpoints and notifiers are made before the first reading, so only what the center and
// the call loops hold is counted. One op builds, measures and closes a center of 1,000 calls (its
// ns/op and allocs/op are for all of that; B/call is the figure of interest).
func BenchmarkIdleCallMemory(b *testing.B) {
	ctx := context.Background()
	var perCall, heapPerCall, stackPerCall float64
	b.ReportAllocs()
	for range b.N {
		users := make([]UserRef, benchCalls)
		eps := make([]*fakeEndpoint, benchCalls)
		for i := range users {
			users[i] = UserRef{ID: fmt.Sprintf("cust%d", i), Name: "Customer", Role: Customer}
			eps[i] = newEndpoint(users[i])
		}
		c, err := NewCenter(Config{Queues: []QueueConfig{{Name: "sales"}}}, nopRooms, WithClock(newFakeClock()), WithLogger(quietLog()))
		if err != nil {
			b.Fatal(err)
		}
		before := memNow()

		for i := range users {
			if _, err := c.Enqueue(ctx, users[i], "sales", eps[i], nopNotifier{}); err != nil {
				b.Fatal(err)
			}
		}

		after := memNow()
		if st, _ := c.Stats(ctx); st.Waiting != benchCalls {
			b.Fatalf("stats = %+v", st)
		}
		heap := float64(after.heap-before.heap) / benchCalls
		stack := float64(after.stack-before.stack) / benchCalls
		heapPerCall += heap
		stackPerCall += stack
		perCall += heap + stack
		c.Close()
		runtime.KeepAlive(eps)
	}
	b.ReportMetric(perCall/float64(b.N), "B/call")
	b.ReportMetric(heapPerCall/float64(b.N), "heapB/call")
	b.ReportMetric(stackPerCall/float64(b.N), "stackB/call")
}

type memReading struct{ heap, stack int64 }

func memNow() memReading {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memReading{heap: int64(m.HeapAlloc), stack: int64(m.StackInuse)}
}

func nopHooks() hooks {
	return hooks{
		ring: func(CallID, Ring) {}, cancel: func(CallID, CancelRing) {}, requeue: func(CallID, Requeue) {},
		released: func(CallID, string, Released) {}, ended: func(CallEnded, []Party, int) {},
	}
}
