package squat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// Resolver looks a domain up in DNS; *dnsq.Resolver is one. Lookup must be safe for
// concurrent use and report a failure as Status Unknown with Err set.
type Resolver interface {
	Lookup(ctx context.Context, domain string) dnsq.Facts
}

// Options tune Run.
type Options struct {
	Concurrency int  // lookups at once; 0: 32
	Wide        bool // generate the wide set (Lookalikes)
	FarmMin     int  // lookalikes a mail host serves to be a farm; 0: 3
	// Shared are the shared mail hosts (Google Workspace, Microsoft 365, mail gateways;
	// the zero value: the built-in list), never counted as a farm.
	Shared providers.Shared
	// OnResult, when set, gets every result as it comes, from one goroutine (the hook for
	// --watch, which stores them all; the Report keeps only the registered ones).
	OnResult func(Result)
	// Progress, when set, is told the total and each lookup done.
	Progress *Progress
}

// ErrNoAnswer is wrapped by Run's error when no lookup got an answer: the resolver is
// unreachable or broken, and a report would wrongly say that nothing is registered.
var ErrNoAnswer = errors.New("no DNS lookup got an answer")

// giveUpAfter is how many lookups in a row may fail, before any succeeded, before Run
// gives up instead of waiting out every timeout of a dead resolver.
func giveUpAfter(concurrency int) int64 { return int64(max(64, 2*concurrency)) }

// job is one lookalike to look up.
type job struct {
	of int // target index
	v  engine.Variant
}

// Run generates the lookalikes of every target, looks them up with r, at most
// o.Concurrency at once, and reports. Lookups stream through a channel to a fixed pool of
// workers and results stream back to one collector, so memory holds the pool's work and
// the registered lookalikes, not every name generated. It fails when ctx ends
// (interrupted) or when no lookup got an answer (ErrNoAnswer).
func Run(parent context.Context, targets []Target, r Resolver, o Options) (Report, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.FarmMin <= 0 {
		o.FarmMin = 3
	}
	col := newCollector(targets, o.FarmMin)
	col.shared = o.Shared
	col.r.Wide = o.Wide
	col.r.Started = time.Now().UTC()
	// The total first, for the progress; generating is cheap next to DNS.
	var total int64
	for _, t := range targets {
		n := len(Lookalikes(t.Domain, o.Wide))
		col.generated(t.Domain, n)
		total += int64(n)
	}
	if o.Progress != nil {
		o.Progress.SetTotal(total)
	}

	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	jobs := make(chan job, o.Concurrency)
	results := make(chan Result, o.Concurrency)
	go func() {
		defer close(jobs)
		for i, t := range targets {
			for _, v := range Lookalikes(t.Domain, o.Wide) {
				select {
				case jobs <- job{of: i, v: v}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- Result{Of: targets[j.of].Domain, Lookalike: j.v, Facts: r.Lookup(ctx, j.v.Domain.ASCII)}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var done, answered int64
	var firstErr error
	for res := range results {
		if ctx.Err() != nil {
			continue // draining after a cancel: these are the cancel's failures
		}
		done++
		if res.Facts.Status != dnsq.Unknown {
			answered++
		} else if firstErr == nil {
			firstErr = res.Facts.Err
		}
		col.add(res)
		if o.OnResult != nil {
			o.OnResult(res)
		}
		if o.Progress != nil {
			o.Progress.Done(1)
		}
		if answered == 0 && done >= giveUpAfter(o.Concurrency) {
			cancel()
		}
	}
	col.r.Finished = time.Now().UTC()
	if err := context.Cause(parent); err != nil && done < total {
		return col.report(), fmt.Errorf("stopped after %d of %d lookups: %w", done, total, err)
	}
	if answered == 0 && done > 0 {
		return col.report(), fmt.Errorf("%w: %d lookups failed, the first with: %v", ErrNoAnswer, done, firstErr)
	}
	return col.report(), nil
}
