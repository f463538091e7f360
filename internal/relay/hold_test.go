package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// openStore opens a real quarantine in the test's folder.
func openStore(t testing.TB) *quarantine.SQLite {
	t.Helper()
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// storeHolder is the daemon's Holder (held.Service, without notices) on a real store,
// counting its calls.
type storeHolder struct {
	store quarantine.Store
	calls atomic.Int32
}

func (h *storeHolder) Hold(ctx context.Context, sub held.Submission) (string, error) {
	h.calls.Add(1)
	return (&held.Service{Store: h.store}).Hold(ctx, sub)
}

// holderFunc is a Holder that answers as told.
type holderFunc func(ctx context.Context, sub held.Submission) (string, error)

func (f holderFunc) Hold(ctx context.Context, sub held.Submission) (string, error) {
	return f(ctx, sub)
}

// storedMessages lists what the store holds, with the raw content of each.
func storedMessages(t testing.TB, st quarantine.Store) []quarantine.Message {
	t.Helper()
	ctx := testCtx(t)
	msgs, err := st.List(ctx, quarantine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if msgs[i].Raw, err = st.Raw(ctx, msgs[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	return msgs
}

// traceRE is the one Received field the relay puts in front of a message.
// A warned recipient adds the verdict fields after it, as when forwarding.
var traceRE = regexp.MustCompile(`^Received: from [a-z.]+ \(\[127\.0\.0\.1\]\)\r\n\tby ` + regexp.QuoteMeta(relayHost) +
	` \(rcptguard\) with ESMTP id [0-9a-z.]+(\r\n\tfor <[^>]+>)?;\r\n\t[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [-+]\d{4}\r\n` +
	`(X-Rcptguard-Verdict: warn\r\nX-Rcptguard-Reason: [^\r\n]+\r\n( [^\r\n]+\r\n)*)?$`)

// splitTrace checks that raw is the relay's Received field (and verdict fields) followed
// by exactly msg.
func splitTrace(t testing.TB, raw, msg []byte) string {
	t.Helper()
	trace, ok := bytes.CutSuffix(raw, msg)
	if !ok {
		t.Fatalf("stored content does not end with the message as sent:\n%q", raw)
	}
	if !traceRE.Match(trace) {
		t.Fatalf("stored content starts with %q, want the relay's Received field only", trace)
	}
	return string(trace)
}

func recipientVerdicts(m quarantine.Message) []string {
	var out []string
	for _, r := range m.Recipients {
		out = append(out, r.Address+"="+r.Verdict.String())
	}
	return out
}

func TestHolderStoresHeldMessage(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	r := startRelay(t, func(s *Server) { s.Holder = &storeHolder{store: st} })
	msg := []byte("From: alice@contoso.com\r\nTo: x@army.ml\r\nSubject: =?utf-8?q?caf=C3=A9?= plans\r\n" +
		"X-Rcptguard-Verdict: allow\r\n\r\nHello.\r\n")
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"x@army.ml"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivered() || !strings.Contains(res.Data.Text, "held as ") || !strings.Contains(res.Data.Text, "delivered to no one until") {
		t.Fatalf("DATA = %v, want 250 held", res.Data)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
	msgs := storedMessages(t, st)
	if len(msgs) != 1 {
		t.Fatalf("store holds %d messages", len(msgs))
	}
	m := msgs[0]
	if !strings.Contains(res.Data.Text, "held as "+m.ID+":") {
		t.Errorf("DATA = %v, want the held ID %s", res.Data, m.ID)
	}
	// The client's own X-Rcptguard-* fields are removed, as when forwarding.
	want := bytes.Replace(msg, []byte("X-Rcptguard-Verdict: allow\r\n"), nil, 1)
	trace := splitTrace(t, m.Raw, want)
	if !strings.Contains(trace, "\tfor <x@army.ml>;") {
		t.Errorf("trace %q, want for <x@army.ml>", trace)
	}
	if m.Adapter != "relay" || m.Sender != "alice@contoso.com" || m.ClientAddr != "127.0.0.1" || m.Subject != "café plans" ||
		m.State != quarantine.Held || m.Size != int64(len(m.Raw)) {
		t.Errorf("stored %+v", m)
	}
	if got := recipientVerdicts(m); !slices.Equal(got, []string{"x@army.ml=hold"}) {
		t.Errorf("recipients %q", got)
	}
	if rc := m.Recipients[0]; !slices.Contains(rc.Intended, "army.mil") || len(rc.Techniques) == 0 || rc.Reason == "" {
		t.Errorf("recipient %+v", rc)
	}
	evs := r.events.all()
	if len(evs) != 1 || evs[0].Outcome != OutcomeHeld || evs[0].HeldID != m.ID || evs[0].Code != 250 {
		t.Errorf("events = %+v", evs)
	}
	if !strings.Contains(trace, " id "+evs[0].ID) || m.QueueID != evs[0].ID {
		t.Errorf("trace %q, queue id %q: want the transaction id %s", trace, m.QueueID, evs[0].ID)
	}
}

// TestHeldMessageReplyLine: the exact reply to a held message, as docs/relay.md shows it:
// 250, the quarantine ID, what became of the message and what the sender gets.
func TestHeldMessageReplyLine(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	r := startRelay(t, func(s *Server) { s.Holder = &storeHolder{store: st} })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<bob@army.ml>")
	c.expect("354", "DATA")
	got := c.cmd("Subject: reply line\r\n\r\nbody\r\n.")
	held := storedMessages(t, st)
	if len(held) != 1 {
		t.Fatalf("store holds %d messages; reply %q", len(held), got)
	}
	want := "250 2.0.0 Ok, held as " + held[0].ID + ": delivered to no one until the recipients are confirmed or corrected;" +
		" a sender of this organisation gets a notice with a link to do that"
	if got != want {
		t.Errorf("reply to a held message:\n got %q\nwant %q", got, want)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("the upstream got %d messages", n)
	}
}

// TestHolderHoldsWholeMixedMessage: one held recipient holds the message for all, and the
// connection goes on with an upstream transaction reset.
func TestHolderHoldsWholeMixedMessage(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	r := startRelay(t, func(s *Server) { s.Holder = &storeHolder{store: st} })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	c.expect("250", "RCPT TO:<bob@army.ml>")
	c.expect("354", "DATA")
	c.expect("250 2.0.0 Ok, held as ", "Subject: mixed\r\n\r\nbody\r\n.")
	// The next message on the same connection goes out alone.
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<carol@example.org>")
	c.expect("354", "DATA")
	c.expect("250 2.0.0 Ok, relayed", "Subject: next\r\n\r\nbody\r\n.")
	c.expect("221", "QUIT")

	msgs := r.sink.Messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].Rcpts, []string{"carol@example.org"}) || msgs[0].Header("Subject") != "next" {
		t.Fatalf("sink = %+v", msgs)
	}
	held := storedMessages(t, st)
	if len(held) != 1 {
		t.Fatalf("store holds %d messages", len(held))
	}
	if got := recipientVerdicts(held[0]); !slices.Equal(got, []string{"amy@army.mil=allow", "bob@army.ml=hold"}) {
		t.Errorf("recipients %q", got)
	}
	trace := splitTrace(t, held[0].Raw, []byte("Subject: mixed\r\n\r\nbody\r\n"))
	if strings.Contains(trace, "for <") {
		t.Errorf("trace %q names one of two recipients", trace)
	}
	if held[0].Subject != "mixed" {
		t.Errorf("subject %q", held[0].Subject)
	}
}

func TestHolderErrorFailsTemporarily(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	r := startRelay(t, func(s *Server) {
		s.Holder = holderFunc(func(context.Context, held.Submission) (string, error) {
			return "", errors.New("disk full")
		})
	})
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"amy@army.mil", "x@army.ml"}, message("hold fails"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Code != 451 || res.Data.Enhanced != "4.3.0" {
		t.Fatalf("DATA = %v, want 451 4.3.0", res.Data)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
	if n := len(storedMessages(t, st)); n != 0 {
		t.Errorf("store holds %d messages", n)
	}
	if evs := r.events.all(); len(evs) != 1 || evs[0].Outcome != OutcomeTempFail || evs[0].HeldID != "" {
		t.Errorf("events = %+v", evs)
	}
}

func TestHolderStoreFailureFailsTemporarily(t *testing.T) {
	t.Parallel()
	// The real Holder on a real store that cannot be written (closed).
	st := openStore(t)
	closed := openStore(t)
	closed.Close()
	r := startRelay(t, func(s *Server) { s.Holder = &storeHolder{store: closed} })
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"x@army.ml"}, message("no expiry"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Code != 451 || res.Data.Enhanced != "4.3.0" {
		t.Fatalf("DATA = %v, want 451 4.3.0", res.Data)
	}
	if n := len(storedMessages(t, st)); n != 0 {
		t.Errorf("store holds %d messages", n)
	}
}

func TestHolderConfirmedForwards(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex // the race detector does not see the SMTP reply as a sync point
	var got quarantine.Message
	var gotRaw []byte
	r := startRelay(t, func(s *Server) {
		s.Holder = holderFunc(func(_ context.Context, sub held.Submission) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			got, gotRaw = quarantine.Message{Recipients: sub.Recipients}, append([]byte(sub.Trace), sub.Content...)
			return "", held.ErrConfirmed
		})
	})
	rcpts := []string{"amy@army.mil", "x@army.ml", "carol@example.org"}
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", rcpts, message("confirmed"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivered() || !strings.Contains(res.Data.Text, "relayed as") {
		t.Fatalf("DATA = %v, want 250 relayed", res.Data)
	}
	msgs := r.sink.Messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].Rcpts, rcpts) {
		t.Fatalf("sink = %+v", msgs)
	}
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(msgs[0].Data, gotRaw) {
		t.Errorf("forwarded %q, want what the Holder was given %q", msgs[0].Data, gotRaw)
	}
	splitTrace(t, msgs[0].Data, message("confirmed"))
	if vs := recipientVerdicts(got); !slices.Equal(vs, []string{"amy@army.mil=allow", "x@army.ml=hold", "carol@example.org=allow"}) {
		t.Errorf("Holder got recipients %q", vs)
	}
	if evs := r.events.all(); len(evs) != 1 || evs[0].Outcome != OutcomeRelayed || evs[0].HeldID != "" {
		t.Errorf("events = %+v", evs)
	}
}

func TestHolderOversizedRefused(t *testing.T) {
	t.Parallel()
	h := &storeHolder{store: openStore(t)}
	r := startRelay(t, func(s *Server) {
		s.MaxMessageBytes = 1000
		s.Holder = h
	})
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<x@army.ml>")
	c.expect("354", "DATA")
	big := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz\r\n", 200)
	c.expect("552 5.3.4", "Subject: big\r\n\r\n%s.", big)
	// The connection goes on.
	c.expect("250", "RSET")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<x@army.ml>")
	c.expect("354", "DATA")
	c.expect("250 2.0.0 Ok, held as", "Subject: small\r\n\r\nok\r\n.")
	if n := h.calls.Load(); n != 1 {
		t.Errorf("Holder called %d times, want 1 (the small message)", n)
	}
	if evs := r.events.all(); len(evs) != 2 || evs[0].Outcome != OutcomeFailed || evs[0].Code != 552 || evs[1].Outcome != OutcomeHeld {
		t.Errorf("events = %+v", evs)
	}
}

func TestHolderHoldsBDATMessage(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	r := startRelay(t, func(s *Server) { s.Holder = &storeHolder{store: st} })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<x@army.ml>")
	body := "Subject: chunks\r\n\r\nbody\r\n"
	io.WriteString(c, "BDAT 9\r\n"+body[:9])
	if got := c.reply(); !strings.HasPrefix(got, "250") {
		t.Fatalf("BDAT 9: %q", got)
	}
	fmt.Fprintf(c, "BDAT %d LAST\r\n%s", len(body)-9, body[9:])
	if got := c.reply(); !strings.HasPrefix(got, "250 2.0.0 Ok, held as ") {
		t.Fatalf("BDAT LAST: %q", got)
	}
	held := storedMessages(t, st)
	if len(held) != 1 || held[0].Subject != "chunks" {
		t.Fatalf("store holds %+v", held)
	}
	splitTrace(t, held[0].Raw, []byte(body))
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
}

// TestHolderRetryIsHeldOnce: a client that sends the same message again (its connection
// broke after our commit, before the 250 reached it) gets the held copy's ID back, though
// this hop's trace header differs between the tries.
func TestHolderRetryIsHeldOnce(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	r := startRelay(t, func(s *Server) { s.Holder = &storeHolder{store: st} })
	msg := []byte("From: alice@contoso.com\r\nTo: x@army.ml\r\nSubject: twice\r\n\r\nHello.\r\n")
	var ids []string
	for range 2 {
		res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"x@army.ml"}, msg)
		if err != nil || !res.Delivered() {
			t.Fatalf("%+v %v", res, err)
		}
		ids = append(ids, res.Data.Text)
	}
	if ids[0] != ids[1] {
		t.Errorf("the retry got another answer: %q, %q", ids[0], ids[1])
	}
	if n := len(storedMessages(t, st)); n != 1 {
		t.Fatalf("store holds %d copies, want 1", n)
	}
	// Another message with the same envelope is held on its own.
	other := append(msg[:len(msg):len(msg)], "P.S.\r\n"...)
	if res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"x@army.ml"}, other); err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	if n := len(storedMessages(t, st)); n != 2 {
		t.Fatalf("store holds %d messages, want 2", n)
	}
}

// TestEveryOutcomeIsAnOutcomeOfTheMessage: the check state the daemon learns from says what
// became of every message, however its transaction ended.
func TestEveryOutcomeIsAnOutcomeOfTheMessage(t *testing.T) {
	for _, o := range []Outcome{OutcomeRelayed, OutcomeHeld, OutcomeHoldRefused, OutcomeRefused, OutcomeTempFail, OutcomeFailed, OutcomeAbandoned} {
		if outcomes[o] == 0 {
			t.Errorf("%s has no outcome", o)
		}
	}
	if outcomes[OutcomeRelayed] != guard.Delivered || outcomes[OutcomeHeld] != guard.Held {
		t.Error("relayed must be delivered and held held")
	}
}
