package milter

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// storeHolder is the daemon's Holder (held.Service, without notices) on a real quarantine.
func storeHolder(q quarantine.Store) *held.Service { return &held.Service{Store: q} }

// holderFunc is a Holder made of a function.
type holderFunc func(context.Context, held.Submission) (string, error)

func (f holderFunc) Hold(ctx context.Context, sub held.Submission) (string, error) {
	return f(ctx, sub)
}

func openStore(t testing.TB) *quarantine.SQLite {
	t.Helper()
	q, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// stored returns the store's messages, each with its raw content after the trace field
// the milter puts on top (checked by cutTrace).
func stored(t testing.TB, q *quarantine.SQLite) []quarantine.Message {
	t.Helper()
	ctx := context.Background()
	list, err := q.List(ctx, quarantine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list {
		raw, err := q.Raw(ctx, list[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		list[i].Raw = cutTrace(t, raw, list[i].QueueID)
	}
	return list
}

// traceRE is the trace field of a held message: from the client for SMTP mail, with the
// MTA's name and the queue ID.
var traceRE = regexp.MustCompile(`^Received: (from \S+ \(\[[0-9a-f.:]+\]\)\r\n\tby \S+ \(held by rcptguard\) with ESMTP|` +
	`by \S+ \(held by rcptguard\) with local)( id (\S+))?;\r\n\t[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n`)

// cutTrace checks the trace field on top of raw and returns what follows it.
func cutTrace(t testing.TB, raw []byte, queueID string) []byte {
	t.Helper()
	loc := traceRE.FindSubmatchIndex(raw)
	if loc == nil {
		t.Fatalf("held content does not begin with the trace field:\n%q", raw)
	}
	if id := raw[max(loc[6], 0):max(loc[7], 0)]; string(id) != queueID {
		t.Errorf("trace field names queue ID %q, want %q", id, queueID)
	}
	return raw[loc[1]:]
}

// withoutLeadSpaceAndSkip makes the test MTA offer neither SMFIP_HDR_LEADSPC nor SMFIP_SKIP.
var withoutLeadSpaceAndSkip = gomilter.WithoutProtocol(gomilter.OptHeaderLeadingSpace | gomilter.OptSkip)

// heldBody has an empty line, a dot line and no line break at its end.
const heldBody = "Dear general,\r\n\r\n.dot line\r\n  indented\r\nno line break at the end"

func TestHoldKeepsTheMessageInTheQuarantine(t *testing.T) {
	t.Parallel()
	const subject = "Café plans for Jürgen €"
	for _, tc := range []struct {
		name   string
		opts   []gomilter.Option
		header [][2]string // as the MTA sends it
	}{
		{"leading space kept", nil, [][2]string{
			{"From", " Alice <alice@contoso.com>"},
			{"Subject", " =?utf-8?q?Caf=C3=A9?= plans\n\tfor =?windows-1252?q?J=FCrgen_=80?="},
			{"X-Folded", " first\n second\n\tthird"},
			{"X-Tab", "\tvalue"},
			{"X-Empty", ""},
		}},
		{"one space eaten", []gomilter.Option{withoutLeadSpaceAndSkip}, [][2]string{
			{"From", "Alice <alice@contoso.com>"},
			{"Subject", "=?utf-8?q?Caf=C3=A9?= plans\n\tfor =?windows-1252?q?J=FCrgen_=80?="},
			{"X-Folded", "first\n second\n\tthird"},
			{"X-Tab", "\tvalue"},
			{"X-Empty", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := openStore(t)
			var ev events
			addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(q), Observe: ev.observe})
			res := dial(t, addr, smtpClient, tc.opts...).sendBody("alice@contoso.com",
				[]string{"carol@army.mil", "bob@army.ml"}, tc.header, heldBody, true)
			if res.eom == nil || res.eom.Type != gomilter.ActionDiscard || len(res.mods) != 0 {
				t.Fatalf("eom %v, mods %v; want discard, unchanged", res.eom, res.mods)
			}
			msgs := stored(t, q)
			if len(msgs) != 1 {
				t.Fatalf("%d messages stored, want 1", len(msgs))
			}
			m := msgs[0]
			wantRaw := "From: Alice <alice@contoso.com>\r\n" +
				"Subject: =?utf-8?q?Caf=C3=A9?= plans\r\n\tfor =?windows-1252?q?J=FCrgen_=80?=\r\n" +
				"X-Folded: first\r\n second\r\n\tthird\r\n" +
				"X-Tab:\tvalue\r\n" +
				"X-Empty:\r\n" +
				"\r\n" + heldBody
			if string(m.Raw) != wantRaw {
				t.Errorf("raw content:\n%q\nwant:\n%q", m.Raw, wantRaw)
			}
			if m.Adapter != "milter" || m.Sender != "alice@contoso.com" || m.ClientAddr != "192.0.2.7" ||
				m.QueueID != "4XyZ1234AB" || m.Subject != subject || m.State != quarantine.Held {
				t.Errorf("message %+v", m)
			}
			if len(m.Recipients) != 2 || m.Recipients[0].Address != "carol@army.mil" || m.Recipients[0].Verdict != verdict.Allow ||
				m.Recipients[1].Address != "bob@army.ml" || m.Recipients[1].Verdict != verdict.Hold ||
				!strings.Contains(m.Recipients[1].Reason, "Did you mean army.mil?") {
				t.Errorf("recipients %+v", m.Recipients)
			}
			got := ev.all()
			if len(got) != 1 || got[0].Action != ActionHold || got[0].HeldID != m.ID || got[0].Stage != StageEOM {
				t.Fatalf("events %+v, want one hold with the ID %s", got, m.ID)
			}
		})
	}
}

func TestHoldOfMailWithoutSMTP(t *testing.T) {
	t.Parallel()
	q := openStore(t)
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(q)})
	res := dial(t, addr, localSubmission, withoutLeadSpaceAndSkip).send("alice@contoso.com", []string{"bob@army.ml"}, plainHeader, false)
	if res.eom == nil || res.eom.Type != gomilter.ActionDiscard || len(res.mods) != 0 {
		t.Fatalf("eom %v, mods %v; want discard instead of the MTA's quarantine", res.eom, res.mods)
	}
	msgs := stored(t, q)
	want := "From: alice@contoso.com\r\nSubject: Travel plans of the general\r\n\r\nSecret body text.\r\n"
	if len(msgs) != 1 || string(msgs[0].Raw) != want || msgs[0].Subject != "Travel plans of the general" {
		t.Fatalf("stored %+v", msgs)
	}
}

func TestMessageWithoutHoldIsAcceptedAndNotKept(t *testing.T) {
	t.Parallel()
	q := openStore(t)
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(q)})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.mil", "carol@armmy.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept || headers(res.mods)[VerdictHeader] != "warn" {
		t.Fatalf("eom %v, mods %v; want accepted with the warning", res.eom, res.mods)
	}
	if msgs := stored(t, q); len(msgs) != 0 {
		t.Fatalf("stored %+v, want nothing", msgs)
	}

	// The milter asks the MTA to skip the body of a message it does not keep.
	c := dial(t, addr, smtpClient)
	for _, step := range []func() (*gomilter.Action, error){
		func() (*gomilter.Action, error) { return c.sess.Mail("alice@contoso.com", "") },
		func() (*gomilter.Action, error) {
			c.macros.Set(gomilter.MacroRcptMailer, "smtp")
			return c.sess.Rcpt("bob@army.mil", "")
		},
		c.sess.DataStart,
		c.sess.HeaderEnd,
		func() (*gomilter.Action, error) { return c.sess.BodyChunk([]byte("body\r\n")) },
	} {
		if act, err := step(); err != nil || act.Type != gomilter.ActionContinue {
			t.Fatalf("%v %v", act, err)
		}
	}
	if !c.sess.Skip() {
		t.Error("the milter did not ask to skip the body")
	}
}

func TestHoldFailures(t *testing.T) {
	t.Parallel()
	failed := errors.New("disk full")
	for _, tc := range []struct {
		name    string
		hold    func(context.Context, held.Submission) (string, error)
		max     int64
		want    gomilter.ActionType
		action  Action
		wantErr error
	}{
		{"holder error", func(context.Context, held.Submission) (string, error) { return "", failed },
			0, gomilter.ActionRejectWithCode, ActionTempFail, failed},
		{"confirmed", func(context.Context, held.Submission) (string, error) {
			return "", held.ErrConfirmed
		},
			0, gomilter.ActionAccept, ActionAccept, nil},
		{"too large", func(context.Context, held.Submission) (string, error) { return "id", nil },
			100, gomilter.ActionRejectWithCode, ActionTempFail, quarantine.ErrTooLarge},
		{"no deadline", func(ctx context.Context, _ held.Submission) (string, error) {
			if _, ok := ctx.Deadline(); !ok {
				return "", failed
			}
			return "id", nil
		}, 0, gomilter.ActionDiscard, ActionHold, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev events
			var calls atomic.Int32
			h := holderFunc(func(ctx context.Context, sub held.Submission) (string, error) {
				calls.Add(1)
				return tc.hold(ctx, sub)
			})
			addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: h, MaxMessageBytes: tc.max, Observe: ev.observe})
			res := dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"bob@army.ml"}, plainHeader,
				strings.Repeat("0123456789\r\n", 20), true)
			if res.eom == nil || res.eom.Type != tc.want {
				t.Fatalf("eom %v, want %v", res.eom, tc.want)
			}
			if tc.want == gomilter.ActionRejectWithCode && !strings.HasPrefix(res.eom.SMTPReply, "451 4.3.0 ") {
				t.Errorf("reply %q, want a temporary error", res.eom.SMTPReply)
			}
			got := ev.all()
			if len(got) != 1 || got[0].Action != tc.action || !errors.Is(got[0].Err, tc.wantErr) {
				t.Fatalf("events %+v, want %s with %v", got, tc.action, tc.wantErr)
			}
			if n := calls.Load(); (tc.max > 0) != (n == 0) {
				t.Errorf("Hold called %d times", n)
			}
		})
	}
}

// largeBody is a body of about n bytes in CRLF lines of varying length, with 8-bit bytes.
func largeBody(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), i%97))
		b.WriteString(" Zeile ä ")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("\r\n")
	}
	return b.String()
}

func TestHoldKeepsALargeBodyExactly(t *testing.T) {
	t.Parallel()
	q := openStore(t)
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(q)})
	body := largeBody(300 << 10) // several body chunks
	res := dial(t, addr, smtpClient, withoutLeadSpaceAndSkip).sendBody("alice@contoso.com", []string{"bob@army.ml"}, plainHeader, body, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionDiscard {
		t.Fatalf("eom %v, want discard", res.eom)
	}
	msgs := stored(t, q)
	want := "From: alice@contoso.com\r\nSubject: Travel plans of the general\r\n\r\n" + body
	if len(msgs) != 1 || string(msgs[0].Raw) != want {
		t.Fatalf("stored %d messages; raw content differs", len(msgs))
	}
}

func TestConfirmedHoldIsDeliveredAsAllowed(t *testing.T) {
	t.Parallel()
	h := holderFunc(func(context.Context, held.Submission) (string, error) {
		return "", held.ErrConfirmed
	})
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: h})
	header := [][2]string{{"From", " alice@contoso.com"}, {VerdictHeader, " forged"}}
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.ml"}, header, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept || len(res.mods) != 1 ||
		res.mods[0].Type != gomilter.ActionChangeHeader || res.mods[0].HeaderName != VerdictHeader || res.mods[0].HeaderValue != "" {
		t.Fatalf("eom %v, mods %v; want accepted with the forged header removed", res.eom, res.mods)
	}
}
