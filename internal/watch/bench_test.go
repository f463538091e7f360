package watch

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// benchRecord records runs of n lookalikes, a tenth of them moving their MX at each run,
// into a store that already holds them: the cost of one daily --watch run.
func benchRecord(b *testing.B, s *Store, n int) {
	ctx := context.Background()
	run := func(i int) []Entry {
		es := make([]Entry, n)
		for j := range es {
			mx := "mx.farm.example"
			if j%10 == 0 {
				mx = fmt.Sprintf("mx%d.farm.example", i)
			}
			es[j] = look(fmt.Sprintf("army%06d.ml", j), mail(mx))
		}
		return es
	}
	if _, err := s.Record(ctx, day(0), run(0)); err != nil {
		b.Fatal(err)
	}
	runs := make([][]Entry, b.N)
	for i := range runs {
		runs[i] = run(i + 1)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := s.Record(ctx, day(i+1), runs[i])
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) != (n+9)/10 {
			b.Fatalf("%d changes, want %d", len(cs), (n+9)/10)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/domain")
}

func BenchmarkRecordSQLite20k(b *testing.B) {
	s, err := OpenSQLite(filepath.Join(b.TempDir(), FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchRecord(b, s, 20000)
}

func BenchmarkRecordPostgres20k(b *testing.B) {
	s, err := OpenPostgres(context.Background(), testenv.StartPostgres(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchRecord(b, s, 20000)
}
