package held

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"net/textproto"
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
	return strings.TrimRight(s.BaseURL, "/") + "/v/" + tok
}

// sendNotices sends the first notices that are due, each at most once (sendOnce).
func (s *Service) sendNotices(ctx context.Context) {
	if s.Notifier == nil {
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
	to, ok := notice.Recipient(m.Sender, m.AuthUser, s.OwnDomains)
	if !ok {
		return errors.New("the sender may not receive notices")
	}
	msg, err := notice.Compose(notice.Notice{To: to, From: s.From, Message: m, Link: s.link(m),
		Reminder: reminder, Org: s.Org, Returned: s.OnExpiry == ExpireReturn}, s.now())
	if err != nil {
		return err
	}
	return s.Notifier.Send(ctx, "", to, msg)
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
	if s.Notifier == nil {
		return
	}
	s.sendOnce(ctx, m, quarantine.NoticeReminder, s.beforeExpiry(m),
		func(ctx context.Context) error { return s.notify(ctx, m, true) })
}

// sendReturns returns the expired messages whose return is due to their senders,
// attached to a short explanation, each at most once.
func (s *Service) sendReturns(ctx context.Context) {
	if s.Notifier == nil {
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
	to, ok := notice.Recipient(m.Sender, m.AuthUser, s.OwnDomains)
	if !ok {
		return errors.New("the sender may not receive notices")
	}
	raw, err := s.Store.Raw(ctx, m.ID)
	if err != nil {
		// Not sent: a store that cannot be read now may be readable later.
		return fmt.Errorf("%w: read the message: %w", notice.ErrTemporary, err)
	}
	msg, err := composeReturn(s.From, to, m, raw, s.now())
	if err != nil {
		return err
	}
	return s.Notifier.Send(ctx, "", to, msg)
}

// composeReturn is the message that returns an expired held message: a text part and
// the original as message/rfc822.
func composeReturn(from, to string, m quarantine.Message, raw []byte, now time.Time) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	tp, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"8bit"}})
	if err != nil {
		return nil, err
	}
	var held []string
	for _, r := range m.Recipients {
		if r.Flagged() {
			held = append(held, "  "+r.Address)
		}
	}
	fmt.Fprintf(tp, "Your message was held because of these recipients, and nobody chose what to do\r\n"+
		"with it before it expired on %s:\r\n\r\n%s\r\n\r\nIt was not sent. It is attached; send it again with the right addresses\r\n"+
		"if it is still needed.\r\n", m.ExpiresAt.Format("Mon, 2 Jan 2006 15:04 MST"), strings.Join(held, "\r\n"))
	ap, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"message/rfc822"},
		"Content-Disposition": {"attachment"}})
	if err != nil {
		return nil, err
	}
	ap.Write(raw)
	mw.Close()
	var out bytes.Buffer
	subject := mime.QEncoding.Encode("utf-8", "Not sent, expired: "+strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, m.Subject))
	fmt.Fprintf(&out, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\n"+
		"Auto-Submitted: auto-generated\r\nContent-Type: multipart/mixed; boundary=%q\r\n\r\n",
		from, to, subject, now.Format(time.RFC1123Z), mw.Boundary())
	out.Write(body.Bytes())
	return out.Bytes(), nil
}
