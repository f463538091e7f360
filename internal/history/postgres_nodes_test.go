package history

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// Writers on two nodes (two stores on one database) with overlapping domains, each batch
// listing them from its own starting point, neither deadlock nor lose a message, and the
// generation moves once per batch. (Without the sorted lock order this test sees
// "deadlock detected".)
func TestPostgresTwoNodesRecordingAtOnce(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	var nodes []*Postgres
	for range 2 {
		s, err := OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes = append(nodes, s)
	}
	g0, err := nodes[0].Generation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const writersPerNode, batches, domains = 4, 10, 12
	var wg sync.WaitGroup
	errs := make(chan error, 2*writersPerNode)
	for n, s := range nodes {
		for w := range writersPerNode {
			wg.Go(func() {
				for b := range batches {
					var obs []Observation
					for i := range domains {
						d := (i + w*3 + n*5 + b) % domains
						obs = append(obs, Observation{Domain: fmt.Sprintf("d%02d.example", d),
							SenderDomain: fmt.Sprintf("s%d.example", d%3), Sender: fmt.Sprintf("u%d@s.example", d%2),
							At: t0.Add(time.Duration(b) * time.Minute), Count: int64(n + 1)})
					}
					if err := s.Record(context.Background(), obs); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Node 0 counts 1 per observation, node 1 counts 2.
	perDomain := int64(writersPerNode * batches * (1 + 2))
	for d := range domains {
		if got := stat(t, nodes[1], fmt.Sprintf("d%02d.example", d)); got.Count != perDomain || got.Senders != 1 {
			t.Errorf("d%02d.example: %+v; want %d messages from 1 sender domain", d, got, perDomain)
		}
	}
	if got := senderStat(t, nodes[0], "u0@s.example", "d00.example"); got.Count != perDomain {
		t.Errorf("u0's history with d00.example: %+v; want %d", got, perDomain)
	}
	for i, s := range nodes {
		g, err := s.Generation(context.Background())
		if err != nil || g != g0+2*writersPerNode*batches {
			t.Errorf("node %d: generation %d, %v; want %d", i, g, err, g0+2*writersPerNode*batches)
		}
	}
}
