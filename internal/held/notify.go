package held

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/token"
)

// link is the validation page URL for message m, with a view token that expires with
// the message.
func (s *Service) link(m quarantine.Message) string {
	tok := s.Signer.Sign(token.Claims{MessageID: m.ID, Sender: m.Sender, Action: token.View, Expires: m.ExpiresAt})
	return strings.TrimRight(s.settings().BaseURL, "/") + "/v/" + tok
}

// sendNotices sends the first notices that are due, each at most once (sendOnce).
func (s *Service) sendNotices(ctx context.Context) {
	if s.settings().Notifier == nil {
		return
	}
	l, err := s.Store.PendingNotices(ctx, s.now(), 50)
	if err != nil {
		s.log().Error("list pending notices", "err", err)
		return
	}
	for _, m := range l {
		if ctx.Err() != nil {
			return
		}
		s.sendOnce(ctx, m, quarantine.NoticeFirst, s.beforeExpiry(m),
			func(ctx context.Context) error { return s.notify(ctx, m, false) })
	}
}

// beforeExpiry is the retry rule of the notice and the reminder: a temporary failure is
// tried again while the message is held.
func (s *Service) beforeExpiry(m quarantine.Message) func(int) bool {
	return func(int) bool { return s.now().Before(m.ExpiresAt) }
}

// notify composes and sends the notice (or reminder) about m. Notices come from the null
// sender, so that they never bounce into a loop.
func (s *Service) notify(ctx context.Context, m quarantine.Message, reminder bool) error {
	st := s.settings()
	to, ok := notice.Recipient(m.Sender, m.AuthUser, st.OwnDomains)
	if !ok {
		return errors.New("the sender may not receive notices")
	}
	msg, err := notice.Compose(notice.Notice{To: to, From: st.From, Message: m, Link: s.link(m),
		Reminder: reminder, Org: st.Org, Returned: st.OnExpiry == ExpireReturn}, s.now())
	if err != nil {
		return err
	}
	return st.Notifier.Send(ctx, "", to, msg)
}

// reminderDue reports whether the reminder about m (held, expiring within
// ReminderBefore) may be claimed at now: the notice went out, and the reminder is not
// sent, failed, claimed or waiting for its retry time.
func reminderDue(m quarantine.Message, now time.Time) bool {
	r := m.Reminder
	return m.Notice == quarantine.NoticeSent && m.ReminderSent.IsZero() && r.Claimed.IsZero() &&
		(r.State == quarantine.NoticeNone || r.State == quarantine.NoticePending) && !r.Next.After(now)
}

// remind sends the last notice before expiry, at most once.
func (s *Service) remind(ctx context.Context, m quarantine.Message) {
	if s.settings().Notifier == nil {
		return
	}
	s.sendOnce(ctx, m, quarantine.NoticeReminder, s.beforeExpiry(m),
		func(ctx context.Context) error { return s.notify(ctx, m, true) })
}

// sendReturns returns the expired messages whose return is due to their senders,
// attached to a short explanation, each at most once.
func (s *Service) sendReturns(ctx context.Context) {
	if s.settings().Notifier == nil {
		return
	}
	l, err := s.Store.PendingReturns(ctx, s.now(), 50)
	if err != nil {
		s.log().Error("list pending returns", "err", err)
		return
	}
	for _, m := range l {
		if ctx.Err() != nil {
			return
		}
		s.sendOnce(ctx, m, quarantine.NoticeReturn, func(n int) bool { return n < maxReturnAttempts },
			func(ctx context.Context) error { return s.returnToSender(ctx, m) })
	}
}

// returnToSender sends expired message m back to its sender, attached to a short
// explanation.
func (s *Service) returnToSender(ctx context.Context, m quarantine.Message) error {
	st := s.settings()
	to, ok := notice.Recipient(m.Sender, m.AuthUser, st.OwnDomains)
	if !ok {
		return errors.New("the sender may not receive notices")
	}
	raw, err := s.Store.Raw(ctx, m.ID)
	if err != nil {
		// Not sent: a store that cannot be read now may be readable later.
		return fmt.Errorf("%w: read the message: %w", notice.ErrTemporary, err)
	}
	msg, err := notice.ComposeReturn(st.From, to, m, raw, s.now())
	if err != nil {
		return err
	}
	return st.Notifier.Send(ctx, "", to, msg)
}
