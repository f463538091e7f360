package held

import (
	"context"
	"errors"
	"time"

	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// Every notice to a sender (the first notice, the reminder, the return on expiry) goes
// out at most once, through sendOnce:
//
//   - The attempt is claimed in the store first (quarantine.Store.ClaimNotice). If the
//     claim cannot be written, nothing is sent: the notice waits in this process, with
//     a backoff that doubles from storeBackoffMin to storeBackoffMax, and is counted as
//     notice_deferred.
//   - After the attempt its outcome is settled in the store (SettleNotice): sent, failed
//     for good, or pending again after a temporary SMTP failure, with a retry time that
//     doubles with the attempts from retryMin to retryMax. If that write fails, the
//     outcome waits in this process and is written again with the same backoff; the
//     claim in the store keeps the notice from being sent again meanwhile.
//   - A claim whose outcome is never written (rcptguard stopped before it could) stays:
//     the notice's outcome is unknown, and it is not sent again by itself. A sender may
//     miss a notice that way, but never gets one twice; the message is still held, and
//     the admin page shows it (notice "sending" with an "outcome unknown" error).

// The backoffs of notices.
const (
	storeBackoffMin = time.Minute
	storeBackoffMax = time.Hour
	retryMin        = time.Minute
	retryMax        = time.Hour
	// maxReturnAttempts bounds the attempts at returning an expired message that the
	// smarthost refuses for now: about two days at retryMax.
	maxReturnAttempts = 50
	// settleTimeout bounds the write of an outcome, also after Stop.
	settleTimeout = 30 * time.Second
)

// doubling is lo doubled n-1 times, at most hi (lo for n < 1).
func doubling(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// noticeKey names one notice of one message.
type noticeKey struct {
	id   string
	kind quarantine.NoticeKind
}

// deferral is a notice held back in this process because the store could not be
// written.
type deferral struct {
	failures int       // failed writes in a row
	until    time.Time // nothing is tried before
	outcome  *outcome  // an attempt's outcome not written yet; nil: the claim failed
}

// outcome is what became of an attempt, as SettleNotice records it.
type outcome struct {
	state   quarantine.Notice
	errText string
	retryAt time.Time
}

// waiting reports whether the notice k is held back at now.
func (s *Service) waiting(k noticeKey, now time.Time) bool {
	s.defMu.Lock()
	defer s.defMu.Unlock()
	d := s.deferrals[k]
	return d != nil && (d.outcome != nil || now.Before(d.until))
}

// forget drops what this process kept about notice k.
func (s *Service) forget(k noticeKey) {
	s.defMu.Lock()
	defer s.defMu.Unlock()
	delete(s.deferrals, k)
}

// storeFailed holds notice k back after a failed write (err), with o the outcome still
// to write, if any.
func (s *Service) storeFailed(k noticeKey, o *outcome, err error) {
	s.storeError()
	s.count("notice_deferred")
	s.defMu.Lock()
	if s.deferrals == nil {
		s.deferrals = map[noticeKey]*deferral{}
	}
	d := s.deferrals[k]
	if d == nil {
		d = &deferral{}
		s.deferrals[k] = d
	}
	d.failures++
	if o != nil {
		d.outcome = o
	}
	d.until = s.now().Add(doubling(d.failures, storeBackoffMin, storeBackoffMax))
	failures, until, pending := d.failures, d.until, d.outcome != nil
	s.defMu.Unlock()
	if pending {
		s.log().Error("record a notice's outcome: it is not sent again meanwhile; will write it again",
			"id", k.id, "kind", string(k.kind), "failures", failures, "retry_at", until, "err", err)
		return
	}
	s.log().Warn("claim a notice: not sent, since the quarantine cannot be written; will try again",
		"id", k.id, "kind", string(k.kind), "failures", failures, "retry_at", until, "err", err)
}

// settleDeferred writes the outcomes held back whose time has come, and forgets the
// failed claims left long enough to be of no more use.
func (s *Service) settleDeferred(ctx context.Context) {
	now := s.now()
	type due struct {
		k noticeKey
		o outcome
	}
	var l []due
	s.defMu.Lock()
	for k, d := range s.deferrals {
		switch {
		case d.outcome != nil && !now.Before(d.until):
			l = append(l, due{k, *d.outcome})
		case d.outcome == nil && now.Sub(d.until) > storeBackoffMax:
			delete(s.deferrals, k)
		}
	}
	s.defMu.Unlock()
	for _, e := range l {
		if ctx.Err() != nil {
			return
		}
		s.settle(ctx, e.k, e.o)
	}
}

// settle records outcome o of notice k, or holds it back if the store cannot be
// written.
func (s *Service) settle(ctx context.Context, k noticeKey, o outcome) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	err := s.Store.SettleNotice(ctx, k.id, k.kind, o.state, o.errText, o.retryAt)
	if err != nil && !errors.Is(err, quarantine.ErrNoticeState) && !errors.Is(err, quarantine.ErrNotFound) {
		s.storeFailed(k, &o, err)
		return
	}
	s.forget(k)
}

// noticeEvents are the counter's events of each kind: sent, retried, failed for good.
var noticeEvents = map[quarantine.NoticeKind][3]string{
	quarantine.NoticeFirst:    {"notice_sent", "notice_retry", "notice_failed"},
	quarantine.NoticeReminder: {"reminder_sent", "reminder_retry", "reminder_failed"},
	quarantine.NoticeReturn:   {"returned", "return_retry", "return_failed"},
}

// sendOnce claims, sends (send) and settles notice kind about m, as the comment at the
// top of this file says. retry says whether a temporary failure of attempt n is tried
// again.
func (s *Service) sendOnce(ctx context.Context, m quarantine.Message, kind quarantine.NoticeKind,
	retry func(attempt int) bool, send func(context.Context) error) {
	k := noticeKey{m.ID, kind}
	now := s.now()
	if s.waiting(k, now) {
		return
	}
	attempt, err := s.Store.ClaimNotice(ctx, m.ID, kind, now)
	if errors.Is(err, quarantine.ErrNoticeState) {
		s.forget(k) // not due (any more), or claimed by another node
		return
	}
	if err != nil {
		s.storeFailed(k, nil, err)
		return
	}
	err = send(ctx)
	ev := noticeEvents[kind]
	var o outcome
	switch {
	case err == nil:
		o.state = quarantine.NoticeSent
		s.count(ev[0])
		s.log().Info(string(kind)+" sent", "id", m.ID, "sender", m.Sender, "attempt", attempt)
	case errors.Is(err, notice.ErrTemporary) && retry(attempt):
		o = outcome{state: quarantine.NoticePending, errText: err.Error(),
			retryAt: s.now().Add(doubling(attempt, retryMin, retryMax))}
		s.count(ev[1])
		s.log().Warn(string(kind)+" not sent; will retry", "id", m.ID, "attempt", attempt, "err", err,
			"retry_at", o.retryAt)
	default:
		o = outcome{state: quarantine.NoticeFailed, errText: err.Error()}
		s.count(ev[2])
		s.log().Error(string(kind)+" not sent, for good", "id", m.ID, "sender", m.Sender, "attempt", attempt, "err", err)
	}
	s.settle(ctx, k, o)
}

// recoverNotices notes the notices claimed before before whose outcome was never
// recorded: unknown, not sent again.
func (s *Service) recoverNotices(ctx context.Context, before time.Time) {
	n, err := s.Store.RecoverNotices(ctx, before)
	if err != nil {
		s.storeError()
		s.log().Error("settle abandoned notices", "err", err)
		return
	}
	for range n {
		s.count("notice_unknown")
	}
	if n > 0 {
		s.log().Warn("notices claimed and never recorded (rcptguard stopped, or could not write the quarantine): "+
			"their outcome is unknown, they are not sent again by themselves", "count", n)
	}
}
