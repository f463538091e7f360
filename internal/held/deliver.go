package held

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtpout"
)

// ReleasedHeader is added to every re-injected message: which held message it was and
// what the choice was, for the mail log and the recipient's administrator.
const ReleasedHeader = "X-Rcptguard-Released"

// reinjectTimeout bounds one re-injection.
const reinjectTimeout = 2 * time.Minute

// deliverDue re-injects the released messages that are due, one after the other, until
// none is due or ctx ends; it returns how many it attempted.
func (s *Service) deliverDue(ctx context.Context) int {
	n := 0
	for ctx.Err() == nil {
		m, ok, err := s.Store.NextDelivery(ctx, s.now())
		if err != nil {
			s.log().Error("claim a release for re-injection", "err", err)
			return n
		}
		if !ok {
			return n
		}
		n++
		s.deliver(ctx, m)
	}
	return n
}

// deliver re-injects one claimed message and records the outcome. Whatever happens, the
// claim ends in Delivered or DeliveryFailed, unless the process dies first: then
// RecoverDeliveries marks the outcome unknown at the next start.
//
// An attempt under way is not cut short when ctx ends (Stop): it finishes, within
// reinjectTimeout, so that a shutdown does not leave its outcome unknown.
func (s *Service) deliver(ctx context.Context, m quarantine.Message) {
	ctx = context.WithoutCancel(ctx)
	raw, err := s.Store.Raw(ctx, m.ID)
	var reply string
	if err == nil {
		reply, err = s.reinject(ctx, m, Rewrite(raw, m), func() error { return s.Store.Committing(ctx, m.ID) })
	}
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err == nil {
		if rerr := s.Store.Delivered(rctx, m.ID, reply); rerr != nil {
			s.log().Error("record a re-injection", "id", m.ID, "err", rerr)
		}
		s.count("reinjected")
		s.log().Info("released message re-injected", "id", m.ID, "state", m.State.String(),
			"recipients", m.ReleaseTo, "reply", reply)
		if s.Learn != nil {
			s.Learn(m.Sender, m.ReleaseTo)
		}
		return
	}
	class := smtpout.Classify(err)
	if class == smtpout.Unknown {
		s.count("reinject_unknown")
		if rerr := s.Store.DeliveryUnknown(rctx, m.ID, err.Error()); rerr != nil {
			s.log().Error("record an uncertain re-injection", "id", m.ID, "err", rerr)
		}
		s.log().Error("re-injection cut off after the end of the data: it may have gone out; "+
			"not retried by itself (check the mail log, then retry from the admin page)", "id", m.ID, "err", err)
		return
	}
	retryAt := time.Time{}
	if class != smtpout.Permanent && m.Attempts < MaxAttempts {
		retryAt = s.now().Add(backoff(m.Attempts))
	}
	if retryAt.IsZero() {
		s.count("reinject_failed")
	} else {
		s.count("reinject_retry")
	}
	if rerr := s.Store.DeliveryFailed(rctx, m.ID, err.Error(), retryAt); rerr != nil {
		s.log().Error("record a failed re-injection", "id", m.ID, "err", rerr)
	}
	s.log().Warn("re-injection failed", "id", m.ID, "attempt", m.Attempts, "err", err,
		"retry_at", retryAt)
}

// backoff is the wait before attempt n+1: 30 s, 1 min, 2 min, ... at most 30 min.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// reinject sends msg to the re-injection service (Settings.Reinject, with
// Settings.Hostname in EHLO unless it names its own): MAIL FROM the original sender,
// RCPT TO each release recipient. Recipients refused for good are left out and named in
// the reply; if all are refused, the message failed for good; a temporary refusal of any
// tries the whole message again later. commit is called when the whole message is
// transmitted, before the end of the data: if it fails, the data is never ended and the
// next hop discards what it got. It returns the service's reply. Its errors are
// classified by smtpout.Classify.
func (s *Service) reinject(ctx context.Context, m quarantine.Message, msg []byte, commit func() error) (string, error) {
	st := s.settings()
	d := st.Reinject
	if d.Address == "" {
		return "", &smtpout.Error{Step: "configuration", Class: smtpout.Temporary,
			Err: errors.New("no re-injection address is configured (quarantine.reinject)")}
	}
	if d.Hostname == "" {
		d.Hostname = st.Hostname
	}
	if d.Timeout <= 0 {
		d.Timeout = reinjectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, reinjectTimeout)
	defer cancel()
	res, err := smtpout.Send(ctx, d, smtpout.Message{From: m.Sender, To: m.ReleaseTo, Data: msg, BeforeEnd: commit})
	if err != nil {
		return "", fmt.Errorf("re-injection to %s failed: %w", d.Address, err)
	}
	reply := res.Reply
	if len(res.Refused) > 0 {
		var refused []string
		for _, r := range res.Refused {
			refused = append(refused, r.Err.Error())
		}
		reply += "; refused: " + strings.Join(refused, "; ")
	}
	return reply, nil
}

// Rewrite returns the message to re-inject: raw with the ReleasedHeader on top and, for a
// corrected release, every flagged address in To and Cc replaced by its correction.
func Rewrite(raw []byte, m quarantine.Message) []byte {
	var out bytes.Buffer
	note := "released as addressed"
	var pairs [][2]string
	if m.State == quarantine.ReleasedCorrected {
		_, changes := Corrected(m)
		for _, c := range changes {
			if c.To != "" { // one not sent stays in To or Cc as written: the header says who was addressed
				pairs = append(pairs, [2]string{c.From, c.To})
			}
		}
		note = "released with corrected recipients"
	}
	fmt.Fprintf(&out, "%s: %s; %s\r\n", ReleasedHeader, m.ID, note)
	head, body := splitHeader(raw)
	if len(pairs) == 0 {
		out.Write(raw)
		return out.Bytes()
	}
	inAddr := false
	for _, line := range splitLines(head) {
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			name, _, _ := strings.Cut(string(line), ":")
			n := strings.ToLower(strings.TrimSpace(name))
			inAddr = n == "to" || n == "cc"
		}
		if inAddr {
			line = []byte(replaceFold(string(line), pairs))
		}
		out.Write(line)
	}
	out.Write(body)
	return out.Bytes()
}

// splitHeader splits a message after the blank line that ends its header section (the
// blank line goes with the body); without one, all of it is header.
func splitHeader(raw []byte) (head, body []byte) {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return raw, nil
		}
		line := raw[i : i+j+1]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return raw[:i], raw[i:]
		}
		i += j + 1
	}
	return raw, nil
}

// splitLines splits b after each LF, keeping the line ends.
func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:j+1])
		b = b[j+1:]
	}
	return out
}

// replaceFold replaces every occurrence of each pair's first address (ignoring ASCII
// case) by its second, where it stands as a whole address: not inside a longer local part
// or domain.
func replaceFold(s string, pairs [][2]string) string {
	for _, p := range pairs {
		lower, from := strings.ToLower(s), strings.ToLower(p[0])
		var b strings.Builder
		i := 0
		for {
			j := strings.Index(lower[i:], from)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(from)
			after := end < len(s) && addrChar(s[end]) && !(s[end] == '.' && (end+1 == len(s) || !addrChar(s[end+1])))
			if (start > 0 && addrChar(s[start-1])) || after {
				b.WriteString(s[i : start+1])
				i = start + 1
				continue
			}
			b.WriteString(s[i:start])
			b.WriteString(p[1])
			i = end
		}
		b.WriteString(s[i:])
		s = b.String()
	}
	return s
}

// addrChar reports whether c can continue a local part or domain next to an address.
func addrChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80 ||
		strings.IndexByte("!#$%&'*+/=?^_`{|}~.", c) >= 0
}
