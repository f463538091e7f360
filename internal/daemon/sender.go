package daemon

import (
	"context"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/history"
)

// pruneEvery is how often the senders' histories are brought back within
// learning.sender_forget_after and learning.sender_max_rows.
const pruneEvery = time.Hour

// senderHistory answers the guard's questions about a sender's own history from the
// history store.
type senderHistory struct{ store history.Store }

func (h senderHistory) Familiar(ctx context.Context, sender, domain string) (int64, time.Time, time.Time, error) {
	st, ok, err := h.store.Sender(ctx, sender, domain)
	if err != nil || !ok {
		return 0, time.Time{}, time.Time{}, err
	}
	return st.Count, st.FirstSeen, st.LastSeen, nil
}

// withSenders gives g the senders' own histories under cfg's learning rule, when there
// is a history.
func (d *Daemon) withSenders(g *guard.Guard, cfg config.Config) *guard.Guard {
	if d.history == nil {
		return g
	}
	return g.WithSenders(guard.SenderRule{
		History: senderHistory{d.history},
		Min:     cfg.Learning.SenderMin,
		OnError: func(sender, domain string, err error) {
			d.Metrics.StoreErrors.WithLabelValues("history").Inc()
			d.Logger.Error("history: the sender's own history cannot be read; the recipient is decided without it",
				"sender", sender, "domain", domain, "err", err)
		},
		OnPass: func(dec guard.Decision) {
			f := dec.Familiar
			d.Logger.Info("a flagged recipient passes: the sender writes to it", "sender", f.Sender, "recipient", dec.Input,
				"messages", f.Count, "first", f.First.Format(time.DateOnly), "last", f.Last.Format(time.DateOnly),
				"would_verdict", f.Verdict.String(), "intended", dec.Intended())
		},
	})
}

// observeSender queues mail to rcpt from sender that went out but must count in the
// sender's own history only: it was warned about, or let through by that history.
func (l *learning) observeSender(sender, rcpt string) {
	l.queue(sender, rcpt, true)
}

// prune deletes the senders' rows not seen for learning.sender_forget_after, then the
// least recently seen past learning.sender_max_rows.
func (l *learning) prune() {
	l.d.mu.Lock()
	lc := l.d.cfg.Learning
	l.d.mu.Unlock()
	if lc.SenderForgetAfter <= 0 || lc.SenderMaxRows <= 0 {
		return // not a validated configuration: keep everything rather than delete it all
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := l.store.PruneSenders(ctx, time.Now().Add(-lc.SenderForgetAfter), lc.SenderMaxRows)
	if err != nil {
		l.d.Metrics.StoreErrors.WithLabelValues("history").Inc()
		l.d.Logger.Error("history: pruning the senders' histories failed", "err", err)
	} else if n > 0 {
		l.d.Logger.Info("history: senders' rows pruned", "rows", n)
	}
}

// learnFrom records a recipient of mail that went out with verdict v: an allowed one for
// the organisation and the sender, a warned one, or one the sender's own history let
// through (familiar), for the sender only. Others (held or refused, let through only by
// monitor mode) teach nothing.
func (d *Daemon) learnFrom(sender, rcpt string, v guard.Verdict, familiar bool) {
	switch {
	case v == guard.Allow && !familiar:
		d.learn.observe(sender, rcpt)
	case v == guard.Allow || v == guard.Warn:
		d.learn.observeSender(sender, rcpt)
	}
}
