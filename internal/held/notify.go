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

// sendNotices sends the notices that are due.
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
		err := s.notify(ctx, m, false)
		var state quarantine.Notice
		var retry time.Time
		var text string
		switch {
		case err == nil:
			state = quarantine.NoticeSent
			s.count("notice_sent")
			s.log().Info("notice sent", "id", m.ID, "sender", m.Sender)
		case errors.Is(err, notice.ErrTemporary) && s.now().Before(m.ExpiresAt):
			state, text = quarantine.NoticePending, err.Error()
			s.count("notice_retry")
			retry = s.now().Add(backoff(1 + int(s.now().Sub(m.Received)/time.Minute)))
			s.log().Warn("notice not sent; will retry", "id", m.ID, "err", err, "retry_at", retry)
		default:
			state, text = quarantine.NoticeFailed, err.Error()
			s.count("notice_failed")
			s.log().Error("notice refused for good", "id", m.ID, "sender", m.Sender, "err", err)
		}
		if err := s.Store.SetNotice(ctx, m.ID, state, text, retry); err != nil {
			s.log().Error("record a notice", "id", m.ID, "err", err)
		}
	}
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

// remind sends the last notice before expiry, once.
func (s *Service) remind(ctx context.Context, m quarantine.Message) {
	if s.Notifier == nil {
		return
	}
	if err := s.notify(ctx, m, true); err != nil {
		s.log().Warn("reminder not sent", "id", m.ID, "err", err)
		return // tried again at the next round
	}
	s.count("reminder_sent")
	if err := s.Store.SetReminder(ctx, m.ID, s.now()); err != nil {
		s.log().Error("record a reminder", "id", m.ID, "err", err)
	}
}

// returnToSender sends an expired message back to its sender, attached to a short
// explanation, when the sender may receive notices.
func (s *Service) returnToSender(ctx context.Context, m quarantine.Message) {
	to, ok := notice.Recipient(m.Sender, m.AuthUser, s.OwnDomains)
	if !ok || s.Notifier == nil {
		s.log().Info("expired message not returned: its sender may not receive notices", "id", m.ID)
		return
	}
	raw, err := s.Store.Raw(ctx, m.ID)
	if err != nil {
		s.log().Error("return an expired message", "id", m.ID, "err", err)
		return
	}
	msg, err := composeReturn(s.From, to, m, raw, s.now())
	if err == nil {
		err = s.Notifier.Send(ctx, "", to, msg)
	}
	if err != nil {
		s.log().Error("return an expired message", "id", m.ID, "err", err)
		return
	}
	s.log().Info("expired message returned to its sender", "id", m.ID, "to", to)
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
