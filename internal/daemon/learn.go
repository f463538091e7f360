package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/history"
)

// How learning batches: observations are written every flushEvery or every flushAt of
// them. Every refreshEvery (Daemon.HistoryCheckEvery) the history's generation is read
// and the engine rebuilt when it moved: what this node learned, what another node sharing
// the PostgreSQL history learned, or what history import added.
const (
	flushEvery   = 2 * time.Second
	flushAt      = 1000
	refreshEvery = time.Minute
	queueLen     = 10000
)

// learning feeds the history with the mail that passes and refreshes the engine's known
// set from it, without stopping anything.
type learning struct {
	d       *Daemon
	store   history.Store
	learner *history.Learner
	ch      chan history.Observation
	done    chan struct{}
	syncs   chan chan struct{} // sync's requests
	wg      sync.WaitGroup
}

// openHistory opens the history: in the quarantine's PostgreSQL database when dsn is set
// (shared by every node), else history.db in dir (made when missing).
func openHistory(dsn, dir string) (history.Store, error) {
	if err := os.MkdirAll(dir, DataDirMode); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return history.Open(ctx, dsn, filepath.Join(dir, "history.db"))
}

func (d *Daemon) startLearning(store history.Store) *learning {
	l := &learning{
		d:     d,
		store: store,
		ch:    make(chan history.Observation, queueLen),
		done:  make(chan struct{}),
		syncs: make(chan chan struct{}),
	}
	l.learner = &history.Learner{Store: store, Check: func(dom address.Domain) engine.Result {
		return d.Guard.Load().Engine().Check(dom)
	}}
	l.wg.Add(1)
	go l.run()
	return l
}

// observe queues mail to rcpt from sender that went out, for the organisation's history
// and the sender's own. It never blocks the mail path: when the queue is full the
// observation is dropped, with a warning in the log.
func (l *learning) observe(sender, rcpt string) {
	l.queue(sender, rcpt, false)
}

func (l *learning) queue(sender, rcpt string, senderOnly bool) {
	if l == nil {
		return
	}
	a, err := address.Parse(rcpt)
	if err != nil {
		return
	}
	o := history.Observation{Domain: a.Domain.ASCII, Sender: sender, SenderOnly: senderOnly, At: time.Now()}
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		o.SenderDomain = strings.ToLower(strings.Trim(sender[i+1:], "<> "))
	}
	select {
	case l.ch <- o:
	default:
		l.d.Logger.Warn("history queue full; an observation was dropped")
	}
}

func (l *learning) run() {
	defer l.wg.Done()
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	l.prune()
	pruneTick := time.NewTicker(pruneEvery)
	defer pruneTick.Stop()
	every := l.d.HistoryCheckEvery
	if every <= 0 {
		every = refreshEvery
	}
	check := time.NewTicker(every)
	defer check.Stop()
	var batch []history.Observation
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		n, refused, err := l.learner.Learn(ctx, batch)
		cancel()
		if err != nil {
			l.d.Logger.Error("history: recording failed; the observations are dropped", "err", err, "observations", len(batch))
		} else if refused > 0 {
			l.d.Logger.Info("history: lookalikes not learned", "refused", refused, "learned", n)
		}
		batch = batch[:0]
	}
	for {
		select {
		case o := <-l.ch:
			if batch = append(batch, o); len(batch) >= flushAt {
				flush()
			}
		case reply := <-l.syncs:
			for len(l.ch) > 0 {
				batch = append(batch, <-l.ch)
			}
			flush()
			close(reply)
		case <-pruneTick.C:
			l.prune()
		case <-tick.C:
			flush()
		case <-check.C:
			flush()
			l.refreshIfMoved()
		case <-l.done:
			for {
				select {
				case o := <-l.ch:
					batch = append(batch, o)
				default:
					flush()
					return
				}
			}
		}
	}
}

// sync writes what was queued before it was called, and returns once it is written.
func (l *learning) sync() {
	reply := make(chan struct{})
	l.syncs <- reply
	<-reply
}

// refreshIfMoved rebuilds the engine when the history's generation is not the one the
// engine in use was built with. A generation that cannot be read keeps the engine (and is
// logged): mail never waits for the history.
func (l *learning) refreshIfMoved() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	gen, err := l.store.Generation(ctx)
	cancel()
	if err != nil {
		l.d.Metrics.StoreErrors.WithLabelValues("history").Inc()
		l.d.Logger.Warn("history: generation check failed; the engine in use stays", "err", err)
		return
	}
	l.d.mu.Lock()
	built := l.d.historyGen
	l.d.mu.Unlock()
	if gen == built {
		return
	}
	if err := l.d.refresh(); err != nil {
		l.d.Logger.Error("history: rebuilding the engine failed; the one in use stays", "err", err)
		return
	}
	l.d.Logger.Info("history: engine rebuilt with what was learned", "generation", gen)
}

// stop writes what is queued and closes the store.
func (l *learning) stop() error {
	if l == nil {
		return nil
	}
	close(l.done)
	l.wg.Wait()
	return l.store.Close()
}
