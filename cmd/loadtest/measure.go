package main

import (
	"bufio"
	"context"
	"fmt"
	"math/bits"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// histogram is log-linear (HDR-style): exact below 128 ns, then 64 buckets per power of two, so a
// percentile is within 1.6% and memory is fixed (18 KiB) whatever the packet count.
type histogram struct {
	counts [hBuckets]uint64
	n      uint64
	max    int64
}

const (
	hSub     = 64
	hShifts  = 34 // up to 2^41 ns (~37 min); longer values land in the last bucket
	hBuckets = 2*hSub + hShifts*hSub
)

func hIndex(v int64) int {
	if v < 2*hSub {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - 7
	if shift > hShifts {
		return hBuckets - 1
	}
	return 2*hSub + (shift-1)*hSub + int(uint64(v)>>shift) - hSub
}

// hUpper is the largest value of bucket i: percentiles are reported conservatively.
func hUpper(i int) int64 {
	if i < 2*hSub {
		return int64(i)
	}
	shift := (i-2*hSub)/hSub + 1
	top := int64((i-2*hSub)%hSub + hSub)
	return (top+1)<<shift - 1
}

func (h *histogram) add(v int64) {
	h.counts[hIndex(v)]++
	h.n++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile in ns (0 when empty), never above the true maximum.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(hUpper(i), h.max)
		}
	}
	return h.max
}

// clkTck is USER_HZ: /proc/PID/stat counts in it. It is 100 on every Linux ABI Go supports and
// cannot be read without cgo (sysconf), so it is a constant here.
const clkTck = 100

// procCPU is utime+stime of pid in seconds (all its threads, living and exited).
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// comm (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	st, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(ut+st) / clkTck, nil
}

// selfCPU is this process's user+system time; getrusage has microsecond resolution.
func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// cpuTimes is busy and total jiffies per CPU from /proc/stat: shows whether a core was saturated
// and how much of the server's core other processes took (the machine is shared).
type cpuTimes map[string][2]uint64

func hostCPU() cpuTimes {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := cpuTimes{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 9 || !strings.HasPrefix(fs[0], "cpu") || fs[0] == "cpu" {
			continue
		}
		var total, idle uint64
		for i, x := range fs[1:9] { // user nice system idle iowait irq softirq steal
			v, _ := strconv.ParseUint(x, 10, 64)
			total += v
			if i == 3 || i == 4 {
				idle += v
			}
		}
		out[fs[0]] = [2]uint64{total - idle, total}
	}
	return out
}

// busy is the busy fraction per CPU between two samples.
func busy(a, b cpuTimes) map[string]float64 {
	out := map[string]float64{}
	for k, e := range b {
		s, ok := a[k]
		if ok && e[1] > s[1] {
			out[k] = float64(e[0]-s[0]) / float64(e[1]-s[1])
		}
	}
	return out
}

// serverCounter reads one counter from the server's /metrics (-1 when unavailable): the server's
// own count of forwarded packets cross-checks the clients'.
func serverCounter(base, name string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// udpRcvbufErrors is the host's count of UDP datagrams dropped because a socket's receive buffer
// was full (/proc/net/snmp): when loss appears, it tells kernel drops at a slow reader (the server
// or a starved load tool) from packets the server never sent.
func udpRcvbufErrors() int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return -1
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			if n == "RcvbufErrors" && i < len(f) {
				v, _ := strconv.ParseInt(f[i], 10, 64)
				return v
			}
		}
	}
	return -1
}
