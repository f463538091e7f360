package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/token"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

type call struct {
	id     string
	choice held.Choice
}

// fakeReleaser is the real Decider (held.Service, not started: it records the choice in
// the store and re-injects nothing), recording the calls.
type fakeReleaser struct {
	mu    sync.Mutex
	store quarantine.Store
	calls []call
}

func (f *fakeReleaser) Decide(ctx context.Context, id string, c held.Choice, actor, remote string) error {
	if err := (&held.Service{Store: f.store}).Decide(ctx, id, c, actor, remote); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{id, c})
	return nil
}

func (f *fakeReleaser) Retry(context.Context, string, string, string) error { return nil }

func (f *fakeReleaser) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

type fixture struct {
	clk      *testenv.Clock
	store    *quarantine.SQLite
	signer   *token.Signer
	releaser *fakeReleaser
	h        http.Handler
	id       string
	viewTok  string
}

const rawMessage = "From: alice@example.org\r\n" +
	"To: bob@arrny.mil\r\n" +
	"Subject: Orders\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"See attached.\r\n" +
	"--b1\r\n" +
	"Content-Type: application/pdf; name=\"orders.pdf\"\r\n" +
	"Content-Disposition: attachment; filename=\"orders.pdf\"\r\n" +
	"\r\n" +
	"JVBERi0=\r\n" +
	"--b1--\r\n"

func sampleMessage(subject string) quarantine.Message {
	return quarantine.Message{
		Adapter:    "milter",
		Sender:     "alice@example.org",
		ClientAddr: "192.0.2.10",
		Subject:    subject,
		Recipients: []quarantine.Recipient{
			{Address: "bob@arrny.mil", Verdict: verdict.Hold, Intended: []string{"army.mil"},
				Techniques: []string{"rn-m"}, Reason: "looks like army.mil"},
			{Address: "carol@example.net", Verdict: verdict.Allow},
		},
	}
}

func newFixture(t *testing.T, subject string) *fixture {
	t.Helper()
	return newFixtureWith(t, sampleMessage(subject))
}

// newFixtureWith is newFixture holding m.
func newFixtureWith(t *testing.T, m quarantine.Message) *fixture {
	t.Helper()
	f := &fixture{clk: testenv.NewClock(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)), releaser: &fakeReleaser{}}
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"), quarantine.WithClock(f.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
	f.signer, err = token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	f.signer.Now = f.clk.Now
	m.Received = f.clk.Now()
	m.ExpiresAt = f.clk.Now().Add(7 * 24 * time.Hour)
	f.id, err = st.Hold(context.Background(), m, strings.NewReader(rawMessage))
	if err != nil {
		t.Fatal(err)
	}
	f.viewTok = f.sign(f.id, m.Sender, token.View, 3*24*time.Hour)
	f.releaser.store = st
	v := &Validation{Store: st, Signer: f.signer, Decider: f.releaser, Now: f.clk.Now}
	f.h = v.Handler()
	return f
}

func (f *fixture) sign(id, sender string, a token.Action, ttl time.Duration) string {
	return f.signer.Sign(token.Claims{MessageID: id, Sender: sender, Action: a, Expires: f.clk.Now().Add(ttl)})
}

type resp struct {
	code int
	body string
	hdr  http.Header
}

func (f *fixture) do(t *testing.T, method, target string, form url.Values) resp {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return resp{rec.Code, rec.Body.String(), rec.Header()}
}

func (f *fixture) get(t *testing.T, tok string) resp { return f.do(t, "GET", "/v/"+tok, nil) }

var csrfRE = regexp.MustCompile(`name="choice" value="(\w+)">\s*<input type="hidden" name="csrf" value="([^"]+)">`)

// forms GETs the page and returns the CSRF token of each choice's form.
func (f *fixture) forms(t *testing.T) map[held.Choice]string {
	t.Helper()
	r := f.get(t, f.viewTok)
	if r.code != 200 {
		t.Fatalf("GET: %d\n%s", r.code, r.body)
	}
	out := map[held.Choice]string{}
	for _, m := range csrfRE.FindAllStringSubmatch(r.body, -1) {
		out[held.Choice(m[1])] = m[2]
	}
	if len(out) != 3 {
		t.Fatalf("want 3 forms, got %v\n%s", out, r.body)
	}
	return out
}

func (f *fixture) post(t *testing.T, choice held.Choice, csrf string) resp {
	return f.do(t, "POST", "/v/"+f.viewTok, url.Values{"choice": {string(choice)}, "csrf": {csrf}})
}

func (f *fixture) state(t *testing.T) quarantine.State {
	t.Helper()
	m, err := f.store.Get(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	return m.State
}

func want(t *testing.T, r resp, code int, substrs ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("status %d, want %d\n%s", r.code, code, r.body)
	}
	for _, s := range substrs {
		if !strings.Contains(r.body, s) {
			t.Errorf("body lacks %q\n%s", s, r.body)
		}
	}
}

func TestSummary(t *testing.T) {
	f := newFixture(t, "Orders")
	r := f.get(t, f.viewTok)
	want(t, r, 200, "Orders", "Sun, 1 Mar 2026 09:30 UTC", "bob@arrny.mil", "looks like army.mil",
		"carol@example.net", "orders.pdf", "Send as addressed", "Send to army.mil instead", "Discard the message",
		`name="viewport"`, `action="/v/`+f.viewTok+`"`)
	if strings.Contains(r.body, "<script") {
		t.Error("page contains a script element")
	}
	if !strings.Contains(r.body, `<span class="flag">⚠ bob@arrny.mil`) || strings.Contains(r.body, `⚠ carol`) {
		t.Errorf("flag marking wrong\n%s", r.body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, "Orders")
	for _, r := range []resp{f.get(t, f.viewTok), f.get(t, "garbage"), f.post(t, held.Release, "")} {
		h := r.hdr
		csp := h.Get("Content-Security-Policy")
		for _, s := range []string{"default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, s) {
				t.Errorf("CSP %q lacks %q", csp, s)
			}
		}
		if strings.Contains(csp, "script-src") {
			t.Errorf("CSP allows scripts: %q", csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
			"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
			if h.Get(k) != v {
				t.Errorf("%s = %q, want %q", k, h.Get(k), v)
			}
		}
	}
}

func TestGetNeverChangesState(t *testing.T) {
	f := newFixture(t, "Orders")
	csrf := f.forms(t)
	links := []string{"/v/" + f.viewTok}
	for c, tok := range csrf {
		links = append(links, "/v/"+f.viewTok+"?"+url.Values{"choice": {string(c)}, "csrf": {tok}}.Encode())
	}
	for _, a := range []token.Action{token.ReleaseAsAddressed, token.ReleaseCorrected, token.Discard} {
		links = append(links, "/v/"+f.sign(f.id, "alice@example.org", a, time.Hour))
	}
	for range 3 {
		for _, l := range links {
			f.do(t, "GET", l, nil)
			f.do(t, "HEAD", l, nil)
		}
	}
	if s := f.state(t); s != quarantine.Held {
		t.Fatalf("state %v after GETs", s)
	}
	evs, err := f.store.Audit(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].To != quarantine.Held {
		t.Fatalf("audit %+v, want only held", evs)
	}
	if n := len(f.releaser.Calls()); n != 0 {
		t.Fatalf("releaser called %d times", n)
	}
}

func TestPostWithoutValidCSRF(t *testing.T) {
	f := newFixture(t, "Orders")
	csrf := f.forms(t)
	other := newFixture(t, "Other").forms(t)
	for name, r := range map[string]resp{
		"none":         f.do(t, "POST", "/v/"+f.viewTok, url.Values{"choice": {"correct"}}),
		"empty body":   f.do(t, "POST", "/v/"+f.viewTok, nil),
		"garbage":      f.post(t, held.Correct, "abc.def"),
		"other choice": f.post(t, held.Correct, csrf[held.Discard]),
		"other page":   f.post(t, held.Correct, other[held.Correct]),
		"tampered":     f.post(t, held.Correct, csrf[held.Correct][:len(csrf[held.Correct])-2]+"AA"),
		"bad choice":   f.post(t, "explode", csrf[held.Correct]),
	} {
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "Nothing was changed") {
			t.Errorf("%s: status %d, want 403\n%s", name, r.code, r.body)
		}
	}
	req := httptest.NewRequest("POST", "/v/"+f.viewTok, strings.NewReader(url.Values{"choice": {"correct"}, "csrf": {csrf[held.Correct]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", rec.Code)
	}
	if s := f.state(t); s != quarantine.Held {
		t.Fatalf("state %v, want held", s)
	}
	if n := len(f.releaser.Calls()); n != 0 {
		t.Fatalf("releaser called %d times", n)
	}
}

func TestPostCorrectThenAgain(t *testing.T) {
	f := newFixture(t, "Orders")
	csrf := f.forms(t)
	want(t, f.post(t, held.Correct, csrf[held.Correct]), 200, "Sent to army.mil instead", "changed to army.mil")
	if s := f.state(t); s != quarantine.ReleasedCorrected {
		t.Fatalf("state %v", s)
	}
	calls := f.releaser.Calls()
	if len(calls) != 1 || calls[0] != (call{f.id, held.Correct}) {
		t.Fatalf("releaser calls %+v", calls)
	}
	evs, _ := f.store.Audit(context.Background(), f.id)
	last := evs[len(evs)-1]
	if last.To != quarantine.ReleasedCorrected || last.Actor != "alice@example.org" || last.Remote != "192.0.2.1" ||
		!strings.Contains(last.Note, "army.mil") {
		t.Errorf("audit event %+v", last)
	}

	// The same form again, and another choice: already handled, nothing happens.
	want(t, f.post(t, held.Correct, csrf[held.Correct]), http.StatusConflict, "Already handled",
		"already handled on Sun, 1 Mar 2026 09:30 UTC: sent to army.mil instead")
	want(t, f.post(t, held.Discard, csrf[held.Discard]), http.StatusConflict, "Already handled")
	want(t, f.get(t, f.viewTok), http.StatusOK, "Already handled", "sent to army.mil instead")
	if s := f.state(t); s != quarantine.ReleasedCorrected {
		t.Fatalf("state %v", s)
	}
	if n := len(f.releaser.Calls()); n != 1 {
		t.Fatalf("releaser called %d times", n)
	}
}

// TestPostReleaseAndDiscardThroughTheService: the page changes a held message only through
// the held service, the one that the daemon gives it.
func TestPostReleaseAndDiscardThroughTheService(t *testing.T) {
	for _, c := range []held.Choice{held.Release, held.Discard} {
		f := newFixture(t, "Orders")
		f.h = (&Validation{Store: f.store, Signer: f.signer, Now: f.clk.Now, Decider: &held.Service{Store: f.store}}).Handler()
		csrf := f.forms(t)
		want(t, f.post(t, c, csrf[c]), 200)
		if s := f.state(t); s != c.State() {
			t.Fatalf("%s: state %v", c, s)
		}
	}
}

func TestTokenProblems(t *testing.T) {
	f := newFixture(t, "Orders")
	otherSigner, _ := token.NewSigner([]byte("ffffffffffffffffffffffffffffffff"))
	forged := otherSigner.Sign(token.Claims{MessageID: f.id, Sender: "alice@example.org", Action: token.View, Expires: f.clk.Now().Add(time.Hour)})
	tampered := []byte(f.viewTok)
	if tampered[len(tampered)-3] == 'A' {
		tampered[len(tampered)-3] = 'B'
	} else {
		tampered[len(tampered)-3] = 'A'
	}
	cases := []struct {
		name string
		tok  string
		code int
		text string
	}{
		{"malformed", "not-a-token", 400, "incomplete or damaged"},
		{"forged", forged, 403, "not issued for this message"},
		{"tampered", string(tampered), 403, "not issued for this message"},
		{"wrong sender", f.sign(f.id, "mallory@example.org", token.View, time.Hour), 403, "not issued for this message"},
		{"wrong message", f.sign("AAAAAAAAAAAAAAAAAAAAAA", "alice@example.org", token.View, time.Hour), 404, "no longer here"},
		{"action token as view", f.sign(f.id, "alice@example.org", token.Discard, time.Hour), 400, "not a link to a validation page"},
	}
	for _, c := range cases {
		want(t, f.get(t, c.tok), c.code, c.text)
		r := f.do(t, "POST", "/v/"+c.tok, url.Values{"choice": {"discard"}, "csrf": {"x.y"}})
		if r.code != c.code {
			t.Errorf("%s POST: %d, want %d", c.name, r.code, c.code)
		}
	}
	if s := f.state(t); s != quarantine.Held {
		t.Fatalf("state %v", s)
	}
}

func TestExpired(t *testing.T) {
	f := newFixture(t, "Orders")
	csrf := f.forms(t)
	f.clk.Advance(3*24*time.Hour + time.Second) // past the view token's expiry
	want(t, f.get(t, f.viewTok), http.StatusGone, "This link has expired")
	want(t, f.post(t, held.Correct, csrf[held.Correct]), http.StatusGone, "This link has expired")

	// A fresh token, but the message itself has expired.
	f.clk.Advance(5 * 24 * time.Hour)
	f.viewTok = f.sign(f.id, "alice@example.org", token.View, time.Hour)
	want(t, f.get(t, f.viewTok), http.StatusGone, "This message has expired")
	if s := f.state(t); s != quarantine.Held {
		t.Fatalf("state %v", s)
	}
	if n := len(f.releaser.Calls()); n != 0 {
		t.Fatalf("releaser called %d times", n)
	}
}

func TestConcurrentPosts(t *testing.T) {
	f := newFixture(t, "Orders")
	csrf := f.forms(t)
	codes := make([]int, 5)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range codes {
		wg.Go(func() {
			<-start
			req := httptest.NewRequest("POST", "/v/"+f.viewTok,
				strings.NewReader(url.Values{"choice": {"correct"}, "csrf": {csrf[held.Correct]}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			codes[i] = rec.Code
		})
	}
	close(start)
	wg.Wait()
	ok, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
			conflict++
		}
	}
	if ok != 1 || conflict != 4 {
		t.Fatalf("codes %v, want one 200 and four 409", codes)
	}
	if n := len(f.releaser.Calls()); n != 1 {
		t.Fatalf("releaser called %d times", n)
	}
}

func TestEscaping(t *testing.T) {
	f := newFixture(t, `<script>alert("x")</script> & "quotes"`)
	r := f.get(t, f.viewTok)
	want(t, r, 200, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;")
	if strings.Contains(r.body, "<script") {
		t.Fatalf("unescaped subject\n%s", r.body)
	}
	csrf := f.forms(t)
	r = f.post(t, held.Discard, csrf[held.Discard])
	want(t, r, 200, "Discarded", "&lt;script&gt;")
	if strings.Contains(r.body, "<script") {
		t.Fatalf("unescaped subject\n%s", r.body)
	}
}

type failingDecider struct{}

func (failingDecider) Decide(context.Context, string, held.Choice, string, string) error {
	return errors.New("database is locked")
}

func (failingDecider) Retry(context.Context, string, string, string) error { return nil }

// TestDeciderError: when the choice cannot be recorded, the sender is told, and the
// message stays held for another try.
func TestDeciderError(t *testing.T) {
	f := newFixture(t, "Orders")
	f.h = (&Validation{Store: f.store, Signer: f.signer, Decider: failingDecider{}, Now: f.clk.Now}).Handler()
	csrf := f.forms(t)
	r := f.post(t, held.Release, csrf[held.Release])
	if r.code != 500 || strings.Contains(r.body, "database is locked") {
		t.Fatalf("status %d, body shows the internal error or not an error:\n%s", r.code, r.body)
	}
	if s := f.state(t); s != quarantine.Held {
		t.Fatalf("state %v", s)
	}
}

// TestPageSaysWhatExpiryDoes: the page says what happens when nobody decides.
func TestPageSaysWhatExpiryDoes(t *testing.T) {
	f := newFixture(t, "Orders")
	want(t, f.get(t, f.viewTok), 200, "the message is discarded on")
	f.h = (&Validation{Store: f.store, Signer: f.signer, Now: f.clk.Now, Decider: f.releaser, ExpiryReturns: func() bool { return true }}).Handler()
	want(t, f.get(t, f.viewTok), 200, "the message is returned to you unsent on")
}
