package held

import (
	"context"
	"errors"
	"time"

	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// tick is how often the background loop looks at the store without being woken.
const tick = 5 * time.Second

// Start recovers the re-injections a stopped process left unfinished and starts the
// background loop: notices, re-injection, reminders, expiry and purging.
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kick != nil {
		return errors.New("held: started twice")
	}
	if err := s.recover(recoveryCutoff(s, s.now())); err != nil {
		return err
	}
	s.kick = make(chan struct{}, 1)
	s.done = make(chan struct{})
	s.stopping = make(chan struct{})
	var ctx context.Context
	ctx, s.stop = context.WithCancel(context.Background())
	go s.loop(ctx)
	s.kick <- struct{}{}
	return nil
}

// Stop ends the background loop, letting the step under way finish (a re-injection in
// progress completes and is recorded) until ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop = nil
	if stop != nil {
		stop()
		close(s.stopping)
	}
	s.mu.Unlock()
	if stop == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recoveryCutoff is how old a claim must be for a process starting at now to settle it:
// any claim made before the start when the store is its own, only those older than
// ClaimLease when other nodes share it.
func recoveryCutoff(s *Service, now time.Time) time.Time {
	if s.Shared {
		return now.Add(-ClaimLease)
	}
	return now
}

// recover settles the re-injections claimed before before that nobody finished, and
// notes the notices claimed before it whose outcome was never recorded.
func (s *Service) recover(before time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.recoverNotices(ctx, before)
	n, err := s.Store.RecoverDeliveries(ctx, before)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log().Warn("re-injections left unfinished by a stopped rcptguard: their outcome is unknown, "+
			"they are not retried by themselves (see the admin queue)", "count", n)
	}
	return nil
}

func (s *Service) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	var p passState
	p.lastRecover = s.now() // Start has just settled what was left
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
		}
		s.pass(ctx, &p)
	}
}

// passState is when a pass of the loop last did the work it does only now and then.
type passState struct {
	lastExpiry, lastPurge, lastRecover time.Time
}

// due reports whether work last done at *last is due again at now, every, and if so
// moves *last to now.
func due(last *time.Time, now time.Time, every time.Duration) bool {
	if now.Sub(*last) >= every || now.Before(*last) {
		*last = now
		return true
	}
	return false
}

// pass is one round of the background work: the notice outcomes this process could not
// write, notices, re-injections, then (now and then) reminders and expiry, the returns
// of expired messages, purging and the settling of abandoned claims.
func (s *Service) pass(ctx context.Context, p *passState) {
	if u, ok := s.Store.(quarantine.Checker); ok {
		if err := u.Usable(); err != nil {
			// Touching a SQLite store whose -shm file cannot be written would end the
			// process (SIGBUS): skip the pass, say why, and try again at the next one.
			s.storeError()
			s.log().Error("quarantine cannot be used; background work waits", "err", err)
			return
		}
	}
	s.settleDeferred(ctx)
	s.sendNotices(ctx)
	s.deliverDue(ctx)
	now := s.now()
	if due(&p.lastExpiry, now, 30*time.Second) {
		s.expire(ctx)
	}
	s.sendReturns(ctx)
	if due(&p.lastPurge, now, time.Hour) {
		s.purge(ctx)
	}
	if due(&p.lastRecover, now, time.Minute) {
		// Claims abandoned by a node that stopped (with a shared store, Start
		// leaves the recent ones to the node that may still hold them).
		if err := s.recover(now.Add(-ClaimLease)); err != nil {
			s.log().Error("settle abandoned re-injections", "err", err)
		}
	}
}

// runOnce does one round of the background work now, as the loop does (for tests):
// every part of a pass is due.
func (s *Service) runOnce(ctx context.Context) {
	s.pass(ctx, &passState{lastPurge: s.now(), lastRecover: s.now()})
}

func (s *Service) purgeAfter() time.Duration {
	st := s.settings()
	if st.PurgeAfter > 0 {
		return st.PurgeAfter
	}
	return DefaultPurgeAfter
}

func (s *Service) purge(ctx context.Context) {
	n, err := s.Store.Purge(ctx, s.now().Add(-s.purgeAfter()))
	if err != nil {
		s.log().Error("purge the quarantine", "err", err)
		return
	}
	if n > 0 {
		s.log().Info("purged decided messages", "count", n, "older_than", s.purgeAfter().String())
	}
}

// expire sends the reminders that are due and expires the messages whose time is up.
func (s *Service) expire(ctx context.Context) {
	now := s.now()
	soon, err := s.Store.Expiring(ctx, now.Add(ReminderBefore))
	if err != nil {
		s.log().Error("list expiring messages", "err", err)
		return
	}
	for _, m := range soon {
		if ctx.Err() != nil {
			return
		}
		if !m.ExpiresAt.After(now) {
			s.expireOne(ctx, m)
			continue
		}
		if reminderDue(m, now) {
			s.remind(ctx, m)
		}
	}
}

func (s *Service) expireOne(ctx context.Context, m quarantine.Message) {
	st := s.settings()
	action := st.OnExpiry
	if action == "" {
		action = ExpireDelete
	}
	note := "expired after " + s.expireAfter().String() + " without a decision; " + string(action)
	_, may := notice.Recipient(m.Sender, m.AuthUser, st.OwnDomains)
	ret := action == ExpireReturn && may && st.Notifier != nil
	// The return is made due with the expiry, in one transaction, and sent by
	// sendReturns: at most once, retried after a temporary failure.
	err := s.Store.Expire(ctx, m.ID, note, ret)
	if errors.Is(err, quarantine.ErrConflict) {
		return // decided at the last moment
	}
	if err != nil {
		s.storeError()
		s.log().Error("expire a held message", "id", m.ID, "err", err)
		return
	}
	s.count("expired")
	s.log().Info("held message expired", "id", m.ID, "sender", m.Sender, "action", string(action))
	if action == ExpireReturn && !ret {
		s.log().Info("expired message not returned: its sender may not receive notices", "id", m.ID)
	}
}
