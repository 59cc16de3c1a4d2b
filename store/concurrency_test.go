package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/vcc/call"
)

// Many call loops append at once: every record is stored, none fails with SQLITE_BUSY.
func TestConcurrentAppends(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	const calls, perCall = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := call.CallID(fmt.Sprintf("call%02d", c))
			for seq := 1; seq <= perCall; seq++ {
				typ := call.RecMedia
				switch seq {
				case 1:
					typ = call.RecCallStarted
				case 2:
					typ = call.RecPartyJoined
				}
				r := call.Record{CallID: id, Seq: seq, At: t0.Add(time.Duration(seq) * time.Millisecond), Type: typ, Actor: "agent" + string(id[4:]), Role: "agent"}
				if err := s.Append(ctx, r); err != nil {
					errs <- fmt.Errorf("%s/%d: %w", id, seq, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cs, err := s.Calls(ctx, call.CallFilter{Limit: 1000})
	if err != nil || len(cs) != calls {
		t.Fatalf("%d calls, %v", len(cs), err)
	}
	for _, c := range cs {
		tl, err := s.Timeline(ctx, c.ID)
		if err != nil || len(tl) != perCall {
			t.Fatalf("%s: %d records, %v", c.ID, len(tl), err)
		}
		for i, r := range tl {
			if r.Seq != i+1 {
				t.Fatalf("%s: record %d has seq %d", c.ID, i, r.Seq)
			}
		}
		if len(c.Agents) != 1 {
			t.Fatalf("%s agents %v", c.ID, c.Agents)
		}
	}
}

const crashEnv = "VCC_STORE_CRASH_DB"

// TestCrashChild is the process TestCrashKeepsAcknowledged kills: it appends records from a few
// call loops and prints each one the store acknowledged. It does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("runs only as the child of TestCrashKeepsAcknowledged")
	}
	s, err := Open(path)
	if err != nil {
		fmt.Println("OPEN FAILED", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	deadline := time.Now().Add(20 * time.Second) // the parent kills us long before; never run away
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := call.CallID(fmt.Sprintf("crash%d", c))
			for seq := 1; time.Now().Before(deadline); seq++ {
				r := call.Record{CallID: id, Seq: seq, At: time.Now(), Type: call.RecTag, Actor: "amy", Data: map[string]string{"text": fmt.Sprint("tag ", seq)}}
				if err := s.Append(context.Background(), r); err != nil {
					fmt.Println("APPEND FAILED", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ACK %s %d\n", id, seq) // one write(2): what the parent reads was acknowledged
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

// R25: a record the store acknowledged survives SIGKILL of the process in the middle of writing.
func TestCrashKeepsAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vcc.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[call.CallID]int{}
	n, killed := 0, false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "ACK" {
			if strings.Contains(sc.Text(), "FAILED") {
				t.Errorf("child: %s", sc.Text())
			}
			continue
		}
		seq, _ := strconv.Atoi(f[2])
		id := call.CallID(f[1])
		if seq != acked[id]+1 {
			t.Fatalf("child acknowledged %s/%d after %d", id, seq, acked[id])
		}
		acked[id] = seq
		if n++; n == 300 && !killed {
			// Kill mid-stream; the lines already in the pipe were acknowledged before the kill
			// and are still read below.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("child stopped after %d acknowledgements before it could be killed", n)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	var ok string
	if err := s.r.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity check: %q %v", ok, err)
	}
	ctx := context.Background()
	for id, last := range acked {
		tl, err := s.Timeline(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if len(tl) < last {
			t.Fatalf("%s: %d records stored, %d acknowledged", id, len(tl), last)
		}
		for i, r := range tl {
			if r.Seq != i+1 || r.Data["text"] != fmt.Sprint("tag ", i+1) {
				t.Fatalf("%s: record %d is %+v", id, i, r)
			}
		}
	}
	t.Logf("%d records acknowledged before SIGKILL across %d calls; all present", n, len(acked))
}
