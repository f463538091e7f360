package dnsq

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// BenchmarkLookupLocal measures whole lookups (MX, then NS, A and AAAA) of names that all
// exist, against the in-process server, from 64 goroutines at once as squat runs them:
//
//	go test -run '^$' -bench LookupLocal -benchtime 5s ./internal/dnsq/
//
// It reports lookups/s (each is 4 questions) and the CPU time per lookup of the process
// (client and server together), which says what the machine can do when other work
// shares its cores.
func BenchmarkLookupLocal(b *testing.B) {
	benchLookups(b, testenv.DNSOptions{AnswerAll: true}, Registered)
}

// BenchmarkLookupLocalNXDOMAIN is the common case of squat: most lookalikes do not exist,
// and one question (MX) says so.
func BenchmarkLookupLocalNXDOMAIN(b *testing.B) {
	benchLookups(b, testenv.DNSOptions{}, NotRegistered)
}

func benchLookups(b *testing.B, o testenv.DNSOptions, want Status) {
	d := testenv.StartDNS(b, o)
	r := newResolver(b, Config{Servers: []string{d.Addr()}})
	var n atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			name := fmt.Sprintf("b%d.example", n.Add(1))
			if f := r.Lookup(b.Context(), name); f.Status != want {
				b.Errorf("Lookup(%s) = %+v", name, f)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "lookups/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n.Load()), "cpu-µs/lookup")
}

// cpuTime is the user and system time the process used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
