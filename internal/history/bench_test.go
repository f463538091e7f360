package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecord records batches of 1,000 observations, as an import or the daemon
// sends them: 200 recipient domains, 10 sender domains, every batch one transaction with
// a full sync.
func BenchmarkRecord(b *testing.B) {
	for _, domains := range []int{200, 1000} {
		b.Run(fmt.Sprintf("batch=1000/domains=%d", domains), func(b *testing.B) {
			s, err := OpenSQLite(filepath.Join(b.TempDir(), "h.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			obs := make([]Observation, 1000)
			for i := range obs {
				obs[i] = Observation{
					Domain:       fmt.Sprintf("correspondent%d.example", i%domains),
					SenderDomain: fmt.Sprintf("dept%d.contoso.com", i%10),
					At:           t0.Add(time.Duration(i) * time.Second),
				}
			}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if err := s.Record(ctx, obs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(obs))/b.Elapsed().Seconds(), "obs/s")
		})
	}
}

// BenchmarkKnown reads 10,000 known domains, as the daemon does to rebuild its engine.
func BenchmarkKnown(b *testing.B) {
	s, err := OpenSQLite(filepath.Join(b.TempDir(), "h.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	obs := make([]Observation, 10_000)
	for i := range obs {
		obs[i] = Observation{Domain: fmt.Sprintf("correspondent%d.example", i), At: t0}
	}
	if err := s.Record(context.Background(), obs); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		k, err := s.Known(context.Background())
		if err != nil || len(k) != len(obs) {
			b.Fatal(len(k), err)
		}
	}
	b.ReportMetric(float64(b.N*len(obs))/b.Elapsed().Seconds(), "domains/s")
}
