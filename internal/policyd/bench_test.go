package policyd

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkPolicyServer sends requests over loopback on persistent connections from
// parallel clients, as Postfix's smtpd processes do, and reports requests/s and the 99th
// percentile latency. Each message is three requests: an allowed RCPT, a held RCPT and
// END-OF-MESSAGE (refused).
func BenchmarkPolicyServer(b *testing.B) {
	addr := start(b, &Server{Logger: slog.New(slog.DiscardHandler)})
	var mu sync.Mutex
	var all []time.Duration
	var next int64
	b.SetParallelism(1) // GOMAXPROCS clients
	b.ResetTimer()
	began := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := dial(b, addr)
		mu.Lock()
		next++
		id := next
		mu.Unlock()
		// The requests of 64 messages, made before the clock runs.
		var reqs []string
		for m := range 64 {
			inst := fmt.Sprintf("%d.%d", id, m)
			reqs = append(reqs, rcptReq(inst, "alice@army.mil"), rcptReq(inst, "bob@army.ml"), eomReq(inst, 2))
		}
		lat := make([]time.Duration, 0, 1024)
		for i := 0; pb.Next(); i++ {
			t0 := time.Now()
			c.send(reqs[i%len(reqs)])
			if _, err := c.answer(); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(began)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
}
