package quarantine

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkHold measures committing one held message (10 KiB, two recipients) with its
// audit event: WAL mode with synchronous=FULL, so every Hold waits for the disk. The
// parallel form shows what concurrent adapters get from one store.
func BenchmarkHold(b *testing.B) {
	for _, size := range []int{10 << 10, 1 << 20} {
		raw := bytes.Repeat([]byte("x"), size)
		b.Run(fmt.Sprintf("serial/%dKiB", size>>10), func(b *testing.B) {
			s := benchStore(b)
			b.SetBytes(int64(size))
			for b.Loop() {
				benchHold(b, s, raw)
			}
		})
		b.Run(fmt.Sprintf("parallel/%dKiB", size>>10), func(b *testing.B) {
			s := benchStore(b)
			b.SetBytes(int64(size))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchHold(b, s, raw)
				}
			})
		})
	}
}

// BenchmarkReleaseCycle measures one message's way out: Release, NextDelivery and
// Delivered, three commits.
func BenchmarkReleaseCycle(b *testing.B) {
	s := benchStore(b)
	raw := bytes.Repeat([]byte("x"), 10<<10)
	ctx := context.Background()
	ids := make([]string, 0, 1024)
	for b.Loop() {
		b.StopTimer()
		if len(ids) == 0 {
			for range 1024 {
				ids = append(ids, benchHold(b, s, raw))
			}
		}
		id := ids[len(ids)-1]
		ids = ids[:len(ids)-1]
		b.StartTimer()
		if err := s.Release(ctx, id, ReleasedAsAddressed, []string{"bob@example.com"}, "bench", "", ""); err != nil {
			b.Fatal(err)
		}
		if _, ok, err := s.NextDelivery(ctx, time.Now().Add(time.Hour)); !ok || err != nil {
			b.Fatal(ok, err)
		}
		if err := s.Delivered(ctx, id, "250 ok"); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStore(b *testing.B) *SQLite {
	b.Helper()
	s, err := OpenSQLite(filepath.Join(b.TempDir(), "q.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchHold(b *testing.B, s *SQLite, raw []byte) string {
	m := sample()
	m.Received = time.Time{}
	id, err := s.Hold(context.Background(), m, bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	return id
}
