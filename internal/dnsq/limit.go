package dnsq

import (
	"context"
	"sync"
	"time"
)

// limiter spaces questions evenly: one every 1/rate seconds over the whole Resolver, with
// no burst, so that n questions take at least (n-1)/rate. Each caller reserves the next
// free slot and waits for it; the slots are absolute times, so a late wake-up does not
// slow the ones after it.
type limiter struct {
	every time.Duration
	mu    sync.Mutex
	next  time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

// wait returns when the caller may send one question, or with ctx's error first.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	now := time.Now()
	l.mu.Lock()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.every)
	l.mu.Unlock()
	d := slot.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
