package call

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentCalls runs many customers and agents at once through one center: enqueue, decline,
// accept, media changes, hangups from both sides, abandoned calls, failed transports, wrap-ups (R2)
// given the moment they start, agents going offline and back, and metrics readers, all from their
// own goroutines; then Close. Run it with -race.
// It checks that every customer's call ends exactly once, that the center is left with no call and
// no agent ringing or busy, that every room is closed once, and (harness) that nothing leaks.
func TestConcurrentCalls(t *testing.T) {
	const (
		nAgents    = 6
		nCustomers = 60
	)
	h := newHarness(t, Config{Queues: []QueueConfig{{Name: "sales"}, {Name: "support"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Refusals that concurrency makes legitimate (the other side was quicker); anything else is a bug.
	expected := func(err error) bool {
		return err == nil || errors.Is(err, ErrInvalidState) || errors.Is(err, ErrNotFound)
	}
	report := func(who, what string, err error) {
		if !expected(err) {
			t.Errorf("%s: %s: %v", who, what, err)
		}
	}

	stop := make(chan struct{})
	var agentsWG, customersWG, readersWG sync.WaitGroup

	// Agents. Even-numbered agents decline the first call they are offered; every agent gives a
	// wrap-up reason as soon as their wrap-up starts (R2), and a00 then goes offline and back; the
	// agent hangs up calls of customers whose number is 1 mod 4.
	for i := range nAgents {
		a := h.agent(fmt.Sprintf("a%02d", i))
		agentsWG.Add(1)
		go func() {
			defer agentsWG.Done()
			report(a.u.ID, "available", h.c.SetAgentState(ctx, a.u, AgentAvailable, a.n))
			offers := 0
			for {
				var ev Event
				select {
				case ev = <-a.n.ch:
				case <-stop:
					return
				case <-ctx.Done():
					return
				}
				if w, ok := ev.(WrapupStarted); ok {
					// Right away: the call may have ended a moment ago (a wrap-up must not be refused
					// because its call's end is still on its way to the center).
					if err := h.c.Wrapup(ctx, a.u, "done"); err != nil {
						t.Errorf("%s: wrap-up of %s: %v", a.u.ID, w.CallID, err)
					}
					if i == 0 {
						report(a.u.ID, "offline", h.c.SetAgentState(ctx, a.u, AgentOffline, a.n))
						report(a.u.ID, "available", h.c.SetAgentState(ctx, a.u, AgentAvailable, a.n))
					}
					continue
				}
				o, ok := ev.(CallOffered)
				if !ok {
					continue
				}
				offers++
				if i%2 == 0 && offers == 1 {
					report(a.u.ID, "decline", h.c.Decline(ctx, a.u, o.CallID))
					continue
				}
				ep := newEndpoint(a.u) // a fresh leg per call
				if err := h.c.Accept(ctx, a.u, o.CallID, ep, a.n); err != nil {
					report(a.u.ID, "accept", err)
					continue
				}
				report(a.u.ID, "media", h.c.SetMedia(ctx, a.u, true, false))
				if n, _ := strconv.Atoi(strings.TrimPrefix(o.Customer.ID, "c")); n%4 == 1 {
					report(a.u.ID, "hangup", h.c.Hangup(ctx, a.u))
				}
			}
		}()
	}

	// Metrics readers run throughout.
	for range 2 {
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := h.c.Stats(ctx); err != nil {
					t.Errorf("stats: %v", err)
					return
				}
			}
		}()
	}

	// Customers, by number mod 4: 0 hangs up once connected; 1 waits for the agent to hang up;
	// 2 gives up at once (maybe while ringing or being accepted); 3 loses their transport at once.
	queues := []string{"sales", "support"}
	var endsMu sync.Mutex
	ends := map[CallID]int{}
	for i := range nCustomers {
		c := h.customer(fmt.Sprintf("c%d", i))
		customersWG.Add(1)
		go func() {
			defer customersWG.Done()
			id, err := h.c.Enqueue(ctx, c.u, queues[i%2], c.ep, c.n)
			if err != nil {
				t.Errorf("%s: enqueue: %v", c.u.ID, err)
				return
			}
			switch i % 4 {
			case 2:
				report(c.u.ID, "hangup", h.c.Hangup(ctx, c.u))
			case 3:
				c.ep.fail(ReasonMediaFailed)
			}
			for {
				var ev Event
				select {
				case ev = <-c.n.ch:
				case <-ctx.Done():
					t.Errorf("%s: call %s never ended", c.u.ID, id)
					return
				}
				switch e := ev.(type) {
				case CallState:
					if e.Phase == PhaseConnected && i%4 == 0 {
						report(c.u.ID, "media", h.c.SetMedia(ctx, c.u, false, true))
						report(c.u.ID, "hangup", h.c.Hangup(ctx, c.u))
					}
				case CallEnded:
					if e.CallID != id {
						t.Errorf("%s: ended %s, want %s", c.u.ID, e.CallID, id)
					}
					endsMu.Lock()
					ends[id]++
					endsMu.Unlock()
					return
				}
			}
		}()
	}

	customersWG.Wait()
	h.waitStats(Stats{}) // every end has reached the center
	close(stop)
	agentsWG.Wait()
	readersWG.Wait()

	if len(ends) != nCustomers {
		t.Errorf("%d calls ended, want %d", len(ends), nCustomers)
	}
	// Nothing is left behind: no agent ringing or busy, nobody in a call, nobody waiting.
	err := h.c.do(ctx, func() error {
		for id, a := range h.c.agents {
			if a.state != AgentAvailable && a.state != AgentOffline && a.state != AgentWrapup || a.offer != nil {
				return fmt.Errorf("agent %s left %s (offer %v)", id, a.state, a.offer)
			}
		}
		if len(h.c.inCall) != 0 || len(h.c.byCall) != 0 {
			return fmt.Errorf("left in calls: %v, calls: %d", h.c.inCall, len(h.c.byCall))
		}
		for name, q := range h.c.queues {
			if len(q.waiting) != 0 {
				return fmt.Errorf("queue %s still has %d waiting", name, len(q.waiting))
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	h.rooms.mu.Lock()
	for id, r := range h.rooms.rooms {
		if _, _, closes := r.snapshot(); closes != 1 {
			t.Errorf("room of %s closed %d times", id, closes)
		}
	}
	h.rooms.mu.Unlock()

	h.c.Close()
}

// TestConcurrentClose closes the center while calls are connected, ringing and queued, with the
// parties still hanging up and agents still answering from their own goroutines.
func TestConcurrentClose(t *testing.T) {
	h := newHarness(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 12
	agents := make([]*person, n/2)
	for i := range agents {
		agents[i] = h.agent(fmt.Sprintf("a%d", i))
		h.available(agents[i])
	}
	customers := make([]*person, n)
	ids := make([]CallID, n)
	for i := range customers {
		customers[i] = h.customer(fmt.Sprintf("c%d", i))
		var err error
		if ids[i], err = h.c.Enqueue(ctx, customers[i].u, "sales", customers[i].ep, customers[i].n); err != nil {
			t.Fatal(err)
		}
	}
	// Half the agents accept their offer now; the other half will try while the center closes.
	var wg sync.WaitGroup
	for i, a := range agents {
		o := next[CallOffered](t, a.n)
		if i%2 == 0 {
			if err := h.c.Accept(ctx, a.u, o.CallID, a.ep, a.n); err != nil {
				t.Fatal(err)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.c.Accept(ctx, a.u, o.CallID, a.ep, a.n); err != nil &&
				!errors.Is(err, ErrClosed) && !errors.Is(err, ErrInvalidState) && !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: accept: %v", a.u.ID, err)
			}
		}()
	}
	for _, c := range customers[:3] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.c.Hangup(ctx, c.u); err != nil &&
				!errors.Is(err, ErrClosed) && !errors.Is(err, ErrInvalidState) {
				t.Errorf("%s: hangup: %v", c.u.ID, err)
			}
		}()
	}
	h.c.Close()
	wg.Wait()
	for i, c := range customers {
		e := next[CallEnded](t, c.n)
		if e.CallID != ids[i] {
			t.Fatalf("%s: ended %+v", c.u.ID, e)
		}
	}
}
