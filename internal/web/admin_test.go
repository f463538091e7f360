package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/ratelimit"
	"github.com/rcptguard/rcptguard/internal/session"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

const (
	adminUser = "root"
	adminPass = "correct horse battery staple"
)

var testHashes = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for user, pass := range map[string]string{adminUser: adminPass, "other": "other password"} {
		h, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		out[user] = string(h)
	}
	return out
})

// decideCall is one call of the Decider; choice is "retry" for Retry.
type decideCall struct {
	id, choice, actor, remote string
}

// storeDecider records its calls and carries out decisions with the real Decider
// (held.Service, not started: nothing is re-injected).
type storeDecider struct {
	store quarantine.Store
	mu    sync.Mutex
	calls []decideCall
}

func (d *storeDecider) Decide(ctx context.Context, id string, c held.Choice, actor, remote string) error {
	d.mu.Lock()
	d.calls = append(d.calls, decideCall{id, string(c), actor, remote})
	d.mu.Unlock()
	return (&held.Service{Store: d.store}).Decide(ctx, id, c, actor, remote)
}

func (d *storeDecider) Retry(_ context.Context, id, actor, remote string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, decideCall{id, "retry", actor, remote})
	return nil
}

func (d *storeDecider) Calls() []decideCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]decideCall(nil), d.calls...)
}

type adminFixture struct {
	clk      *testenv.Clock
	store    *quarantine.SQLite
	sessions session.Store
	sessDir  string // the SQLite session store's folder
	decider  *storeDecider
	admin    *Admin
	h        http.Handler
	id       string // a held message
}

// testSessions opens a SQLite session store in dir, closed when the test ends.
func testSessions(t *testing.T, dir string) *session.SQLite {
	t.Helper()
	ss, err := session.OpenSQLite(filepath.Join(dir, session.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	return ss
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	f := &adminFixture{clk: testenv.NewClock(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))}
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"), quarantine.WithClock(f.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.store = st
	f.sessDir = t.TempDir()
	f.sessions = testSessions(t, f.sessDir)
	f.decider = &storeDecider{store: st}
	f.id = f.hold(t, sampleMessage("Orders for Monday"), rawMessage)
	f.admin = &Admin{Store: st, Stats: st, Decider: f.decider, Users: testHashes(),
		Key: []byte("0123456789abcdef0123456789abcdef"), Now: f.clk.Now, Sessions: f.sessions}
	f.h = f.admin.Handler()
	return f
}

func (f *adminFixture) hold(t *testing.T, m quarantine.Message, raw string) string {
	t.Helper()
	m.Received = f.clk.Now()
	m.ExpiresAt = f.clk.Now().Add(7 * 24 * time.Hour)
	id, err := f.store.Hold(context.Background(), m, strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type adminResp struct {
	code int
	body string
	hdr  http.Header
	res  *http.Response
}

// req sends one request to the handler from remote (an IP address; "" is 192.0.2.1).
func (f *adminFixture) req(t *testing.T, method, target string, form url.Values, cookie *http.Cookie, remote string) adminResp {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if remote != "" {
		req.RemoteAddr = net.JoinHostPort(remote, "40000")
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return adminResp{rec.Code, rec.Body.String(), rec.Header(), rec.Result()}
}

func (f *adminFixture) login(t *testing.T, user, pass, remote string) adminResp {
	t.Helper()
	return f.req(t, "POST", "/admin/login", url.Values{"user": {user}, "password": {pass}}, nil, remote)
}

// session signs in and returns the session cookie.
func (f *adminFixture) session(t *testing.T, user, pass string) *http.Cookie {
	t.Helper()
	r := f.login(t, user, pass, "")
	if r.code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", r.code, r.body)
	}
	for _, c := range r.res.Cookies() {
		if c.Name == adminCookie {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("sign-in set no session cookie: %v", r.hdr)
	return nil
}

func (f *adminFixture) get(t *testing.T, target string, c *http.Cookie) adminResp {
	t.Helper()
	return f.req(t, "GET", target, nil, c, "")
}

var adminCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := adminCSRFRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in\n%s", body)
	}
	return m[1]
}

func (f *adminFixture) state(t *testing.T, id string) quarantine.State {
	t.Helper()
	m, err := f.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m.State
}

func wantAdmin(t *testing.T, r adminResp, code int, substrs ...string) {
	t.Helper()
	want(t, resp{code: r.code, body: r.body}, code, substrs...)
}

func TestAdminLoginSetsStrictCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newAdminFixture(t)
		f.admin.SecureCookies = secure
		r := f.login(t, adminUser, adminPass, "")
		if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/" {
			t.Fatalf("sign-in: %d, Location %q", r.code, r.hdr.Get("Location"))
		}
		cs := r.res.Cookies()
		if len(cs) != 1 {
			t.Fatalf("cookies %v", cs)
		}
		c := cs[0]
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin/" || c.Secure != secure ||
			c.MaxAge != 12*60*60 || !c.Expires.Equal(f.clk.Now().Add(12*time.Hour)) {
			t.Errorf("cookie %+v (SecureCookies %v)", c, secure)
		}
		raw := r.hdr.Get("Set-Cookie")
		for _, s := range []string{"HttpOnly", "SameSite=Strict", "Path=/admin/"} {
			if !strings.Contains(raw, s) {
				t.Errorf("Set-Cookie %q lacks %s", raw, s)
			}
		}
		wantAdmin(t, f.get(t, "/admin/", &http.Cookie{Name: c.Name, Value: c.Value}), 200, "Orders for Monday", "Sign out")
		// The sign-in form sends a signed-in administrator to the queue.
		if r := f.get(t, "/admin/login", &http.Cookie{Name: c.Name, Value: c.Value}); r.code != http.StatusSeeOther {
			t.Errorf("sign-in form when signed in: %d", r.code)
		}
	}
}

func TestAdminLoginFailureLooksTheSameForUnknownUsers(t *testing.T) {
	f := newAdminFixture(t)
	wrong := f.login(t, adminUser, "wrong", "192.0.2.7")
	unknown := f.login(t, "nobody", adminPass, "192.0.2.8")
	empty := f.req(t, "POST", "/admin/login", url.Values{}, nil, "192.0.2.9")
	for _, r := range []adminResp{wrong, unknown, empty} {
		wantAdmin(t, r, http.StatusUnauthorized, "Wrong user name or password.", `name="password"`)
		if len(r.res.Cookies()) != 0 {
			t.Errorf("failed sign-in set a cookie: %v", r.res.Cookies())
		}
	}
	if strings.ReplaceAll(unknown.body, "nobody", adminUser) != wrong.body {
		t.Errorf("unknown user's page differs from wrong password's:\n%s\n---\n%s", unknown.body, wrong.body)
	}
	if r := f.get(t, "/admin/", nil); r.code != http.StatusSeeOther {
		t.Errorf("queue without session: %d", r.code)
	}
}

func TestAdminLoginRateLimitPerAddress(t *testing.T) {
	f := newAdminFixture(t)
	for i := range MaxLoginFailures {
		// Different user names: the limit per address holds across names.
		wantAdmin(t, f.login(t, fmt.Sprintf("guess%d", i), "x", "192.0.2.50"), http.StatusUnauthorized)
	}
	r := f.login(t, adminUser, adminPass, "192.0.2.50")
	wantAdmin(t, r, http.StatusTooManyRequests, "Too many failed sign-in attempts", "Try again in 15 minutes")
	if r.hdr.Get("Retry-After") == "" || len(r.res.Cookies()) != 0 || strings.Contains(r.body, `name="password"`) {
		t.Errorf("429: Retry-After %q, cookies %v\n%s", r.hdr.Get("Retry-After"), r.res.Cookies(), r.body)
	}
	// Another address is not affected; the user name has no failures.
	wantAdmin(t, f.login(t, adminUser, adminPass, "192.0.2.51"), http.StatusSeeOther)
	// The same IPv6 /64 is one client.
	for i := range MaxLoginFailures {
		f.login(t, fmt.Sprintf("v6guess%d", i), "x", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	wantAdmin(t, f.login(t, adminUser, adminPass, "2001:db8:1:2::ffff"), http.StatusTooManyRequests)
	wantAdmin(t, f.login(t, adminUser, adminPass, "2001:db8:1:3::1"), http.StatusSeeOther)

	// The window slides: 15 minutes after the failures, the address may try again.
	f.clk.Advance(LoginWindow)
	wantAdmin(t, f.login(t, adminUser, adminPass, "192.0.2.50"), http.StatusSeeOther)
}

func TestAdminLoginRateLimitPerUser(t *testing.T) {
	f := newAdminFixture(t)
	for i := range MaxLoginFailures {
		f.clk.Advance(time.Minute)
		wantAdmin(t, f.login(t, adminUser, "wrong", fmt.Sprintf("198.51.100.%d", i+1)), http.StatusUnauthorized)
	}
	// The sixth attempt, from a fresh address and with the right password: refused before
	// the password is checked.
	r := f.login(t, adminUser, adminPass, "198.51.100.99")
	wantAdmin(t, r, http.StatusTooManyRequests, "Too many failed sign-in attempts")
	// Other users can still sign in from there.
	wantAdmin(t, f.login(t, "other", "other password", "198.51.100.99"), http.StatusSeeOther)
	// Once the first failure is 15 minutes old, one more attempt is allowed.
	f.clk.Advance(LoginWindow - 4*time.Minute)
	wantAdmin(t, f.login(t, adminUser, adminPass, "198.51.100.99"), http.StatusSeeOther)
}

func TestAdminLoginRateLimitHoldsUnderConcurrency(t *testing.T) {
	f := newAdminFixture(t)
	codes := make(chan int, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { codes <- f.login(t, adminUser, "wrong", "203.0.113.5").code })
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[http.StatusUnauthorized] != MaxLoginFailures || n[http.StatusTooManyRequests] != 20-MaxLoginFailures {
		t.Fatalf("codes %v: want %d password checks", n, MaxLoginFailures)
	}
}

func TestAdminRoutesRefuseWithoutSession(t *testing.T) {
	f := newAdminFixture(t)
	good := f.session(t, adminUser, adminPass)
	tampered := &http.Cookie{Name: adminCookie, Value: good.Value[:len(good.Value)-2] + "AA"}
	if tampered.Value == good.Value {
		tampered.Value = good.Value[:len(good.Value)-2] + "BB"
	}
	// Well formed, never issued.
	forged := &http.Cookie{Name: adminCookie, Value: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	gets := []string{"/admin/", "/admin/m/" + f.id, "/admin/m/nosuchmessage", "/admin/stats", "/admin/audit",
		"/admin/audit?offset=100", "/admin/?state=all&q=x", "/admin/nosuchpage"}
	posts := []string{"/admin/m/" + f.id + "/act", "/admin/logout", "/admin/", "/admin/stats", "/admin/nosuchpage"}
	for name, c := range map[string]*http.Cookie{"none": nil, "tampered": tampered, "never issued": forged,
		"garbage": {Name: adminCookie, Value: "garbage"}} {
		for _, p := range gets {
			for _, m := range []string{"GET", "HEAD"} {
				r := f.req(t, m, p, nil, c, "")
				if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/login" {
					t.Errorf("%s cookie: %s %s: %d, Location %q", name, m, p, r.code, r.hdr.Get("Location"))
				}
			}
		}
		for _, p := range posts {
			for _, m := range []string{"POST", "PUT", "DELETE"} {
				r := f.req(t, m, p, url.Values{"choice": {"discard"}, "csrf": {"x"}}, c, "")
				if r.code != http.StatusForbidden {
					t.Errorf("%s cookie: %s %s: %d, want 403", name, m, p, r.code)
				}
			}
		}
	}
	// The valid session opens every page.
	for _, p := range gets[:5] {
		if r := f.get(t, p, good); r.code != 200 && !(r.code == 404 && strings.Contains(p, "nosuch")) {
			t.Errorf("with session: GET %s: %d", p, r.code)
		}
	}
	// It expires after 12 hours.
	f.clk.Advance(session.DefaultMax)
	if r := f.get(t, "/admin/", good); r.code != http.StatusSeeOther {
		t.Errorf("expired session: %d", r.code)
	}
	if n := len(f.decider.Calls()); n != 0 {
		t.Fatalf("decider called %d times", n)
	}
	if s := f.state(t, f.id); s != quarantine.Held {
		t.Fatalf("state %v", s)
	}
}

func TestAdminSessionEndsWhenPasswordChanges(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	users := map[string]string{}
	for k, v := range testHashes() {
		users[k] = v
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("new password"), bcrypt.MinCost)
	users[adminUser] = string(h)
	f.admin.Users = users
	if r := f.get(t, "/admin/", c); r.code != http.StatusSeeOther {
		t.Errorf("session after password change: %d", r.code)
	}
	delete(users, adminUser)
	if r := f.get(t, "/admin/", c); r.code != http.StatusSeeOther {
		t.Errorf("session of a removed user: %d", r.code)
	}
}

func TestAdminActRequiresCSRF(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	page := f.get(t, "/admin/m/"+f.id, c)
	wantAdmin(t, page, 200, "Release as addressed", "Release to army.mil instead", "Discard")
	tok := csrfOf(t, page.body)
	otherTok := csrfOf(t, f.get(t, "/admin/", f.session(t, "other", "other password")).body)
	act := "/admin/m/" + f.id + "/act"
	for name, form := range map[string]url.Values{
		"missing":       {"choice": {"discard"}},
		"empty":         {"choice": {"discard"}, "csrf": {""}},
		"forged":        {"choice": {"discard"}, "csrf": {"AAAA" + tok[4:]}},
		"other session": {"choice": {"discard"}, "csrf": {otherTok}},
	} {
		r := f.req(t, "POST", act, form, c, "")
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "Nothing was changed") {
			t.Errorf("%s CSRF token: %d\n%s", name, r.code, r.body)
		}
	}
	// A cross-site POST is refused even with the right token.
	req := httptest.NewRequest("POST", act, strings.NewReader(url.Values{"choice": {"discard"}, "csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", rec.Code)
	}
	if n := len(f.decider.Calls()); n != 0 {
		t.Fatalf("decider called %d times", n)
	}
	if s := f.state(t, f.id); s != quarantine.Held {
		t.Fatalf("state %v", s)
	}

	r := f.req(t, "POST", act, url.Values{"choice": {"correct"}, "csrf": {tok}}, c, "192.0.2.33")
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/m/"+f.id {
		t.Fatalf("act: %d, Location %q\n%s", r.code, r.hdr.Get("Location"), r.body)
	}
	if calls := f.decider.Calls(); len(calls) != 1 || calls[0] != (decideCall{f.id, "correct", "admin:root", "192.0.2.33"}) {
		t.Fatalf("decider calls %+v", calls)
	}
	if s := f.state(t, f.id); s != quarantine.ReleasedCorrected {
		t.Fatalf("state %v", s)
	}
	// Done: the page shows the new state, the audit event and no more release forms.
	page = f.get(t, "/admin/m/"+f.id, c)
	wantAdmin(t, page, 200, "released-corrected", "admin:root", "192.0.2.33")
	if strings.Contains(page.body, "Release as addressed") {
		t.Error("release form still shown after the release")
	}
	// The same form again: already handled.
	wantAdmin(t, f.req(t, "POST", act, url.Values{"choice": {"discard"}, "csrf": {tok}}, c, ""),
		http.StatusConflict, "Already handled", "released-corrected")
	wantAdmin(t, f.req(t, "POST", act, url.Values{"choice": {"explode"}, "csrf": {tok}}, c, ""), http.StatusBadRequest)
	wantAdmin(t, f.req(t, "POST", "/admin/m/AAAAAAAAAAAAAAAAAAAAAA/act", url.Values{"choice": {"discard"}, "csrf": {tok}}, c, ""),
		http.StatusNotFound, "Message not found")
}

// failedStore is the real store with the delivery of every message shown as failed
// (the delivery columns are filled by the daemon's relay code).
type failedStore struct{ *quarantine.SQLite }

func (s failedStore) Get(ctx context.Context, id string) (quarantine.Message, error) {
	m, err := s.SQLite.Get(ctx, id)
	m.Delivery, m.LastError, m.Attempts = quarantine.DeliveryFailed, "550 5.1.1 <script>no such user</script>", 3
	return m, err
}

func TestAdminRetryFailedDelivery(t *testing.T) {
	f := newAdminFixture(t)
	f.admin = &Admin{Store: failedStore{f.store}, Stats: f.store, Decider: f.decider, Users: testHashes(),
		Key: f.admin.Key, Now: f.clk.Now, Sessions: f.sessions}
	f.h = f.admin.Handler()
	c := f.session(t, adminUser, adminPass)
	page := f.get(t, "/admin/m/"+f.id, c)
	wantAdmin(t, page, 200, "Retry delivery", "550 5.1.1 &lt;script&gt;no such user&lt;/script&gt;", "failed")
	r := f.req(t, "POST", "/admin/m/"+f.id+"/act", url.Values{"choice": {"retry"}, "csrf": {csrfOf(t, page.body)}}, c, "")
	if r.code != http.StatusSeeOther {
		t.Fatalf("retry: %d\n%s", r.code, r.body)
	}
	if calls := f.decider.Calls(); len(calls) != 1 || calls[0].choice != "retry" || calls[0].actor != "admin:root" {
		t.Fatalf("decider calls %+v", calls)
	}
}

type conflictDecider struct{}

func (conflictDecider) Decide(context.Context, string, held.Choice, string, string) error {
	return &quarantine.ConflictError{Expected: quarantine.Held, Current: quarantine.Discarded}
}

func (conflictDecider) Retry(context.Context, string, string, string) error {
	return fmt.Errorf("retry: %w", quarantine.ErrConflict)
}

func TestAdminActConflictIs409(t *testing.T) {
	f := newAdminFixture(t)
	f.admin.Decider = conflictDecider{}
	c := f.session(t, adminUser, adminPass)
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	for _, choice := range []string{"release", "retry"} {
		wantAdmin(t, f.req(t, "POST", "/admin/m/"+f.id+"/act", url.Values{"choice": {choice}, "csrf": {tok}}, c, ""),
			http.StatusConflict, "Already handled")
	}
}

func TestAdminLogout(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	wantAdmin(t, f.req(t, "POST", "/admin/logout", url.Values{}, c, ""), http.StatusForbidden)
	r := f.req(t, "POST", "/admin/logout", url.Values{"csrf": {tok}}, c, "")
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/login" {
		t.Fatalf("logout: %d %q", r.code, r.hdr.Get("Location"))
	}
	cs := r.res.Cookies()
	if len(cs) != 1 || cs[0].Name != adminCookie || cs[0].Value != "" || cs[0].MaxAge >= 0 || cs[0].Path != "/admin/" {
		t.Fatalf("logout cookie %+v", cs)
	}
}

func TestAdminQueueFilterAndSearch(t *testing.T) {
	f := newAdminFixture(t)
	f.clk.Advance(time.Minute)
	m := sampleMessage("Holiday plans")
	m.Sender = "dave@example.org"
	m.Recipients = append(m.Recipients, quarantine.Recipient{Address: "erin@allowed.example", Verdict: verdict.Allow})
	holiday := f.hold(t, m, rawMessage)
	f.clk.Advance(time.Minute)
	gone := f.hold(t, sampleMessage("Discarded draft"), rawMessage)
	if err := f.store.Transition(context.Background(), gone, quarantine.Held, quarantine.Discarded, "x", "", ""); err != nil {
		t.Fatal(err)
	}
	c := f.session(t, adminUser, adminPass)
	cases := []struct {
		query      string
		show, hide []string
	}{
		{"", []string{"Orders for Monday", "Holiday plans"}, []string{"Discarded draft"}},
		{"?state=held", []string{"Orders for Monday", "Holiday plans"}, []string{"Discarded draft"}},
		{"?state=discarded", []string{"Discarded draft"}, []string{"Orders for Monday", "Holiday plans"}},
		{"?state=all", []string{"Orders for Monday", "Holiday plans", "Discarded draft"}, nil},
		{"?q=HOLIDAY", []string{"Holiday plans"}, []string{"Orders for Monday", "Discarded draft"}},
		{"?q=dave%40example", []string{"Holiday plans"}, []string{"Orders for Monday"}},
		{"?state=all&q=arrny.mil", []string{"Orders for Monday", "Holiday plans", "Discarded draft"}, nil},
		{"?q=nothing-matches", []string{"No messages match"}, []string{"Orders for Monday"}},
	}
	for _, tc := range cases {
		r := f.get(t, "/admin/"+tc.query, c)
		wantAdmin(t, r, 200, tc.show...)
		for _, h := range tc.hide {
			if strings.Contains(r.body, h) {
				t.Errorf("%s shows %q", tc.query, h)
			}
		}
	}
	r := f.get(t, "/admin/", c)
	wantAdmin(t, r, 200, "bob@arrny.mil", "looks like army.mil", `href="/admin/m/`+holiday+`"`,
		"2026-03-08 09:31 UTC", `<option value="held" selected>`, `name="viewport"`)
	if strings.Contains(r.body, "carol@example.net") || strings.Contains(r.body, "erin@allowed.example") {
		t.Error("queue lists an unflagged recipient")
	}
	wantAdmin(t, f.get(t, "/admin/?state=bogus", c), http.StatusBadRequest)
}

func TestAdminQueuePaging(t *testing.T) {
	f := newAdminFixture(t)
	for i := range adminPageSize {
		f.clk.Advance(time.Second)
		f.hold(t, sampleMessage(fmt.Sprintf("Bulk %02d", i)), "Subject: x\r\n\r\nx")
	}
	c := f.session(t, adminUser, adminPass)
	first := f.get(t, "/admin/", c)
	wantAdmin(t, first, 200, "Bulk 49", "Bulk 00", `href="/admin/?offset=50&amp;state=held"`)
	if strings.Contains(first.body, "Orders for Monday") {
		t.Error("first page shows the 51st message")
	}
	second := f.get(t, "/admin/?offset=50&state=held", c)
	wantAdmin(t, second, 200, "Orders for Monday", `href="/admin/?state=held"`)
	if strings.Contains(second.body, "Bulk") || strings.Contains(second.body, "Older") {
		t.Errorf("second page:\n%s", second.body)
	}
}

func TestAdminMessagePageEscapesHeaders(t *testing.T) {
	f := newAdminFixture(t)
	raw := "From: alice@example.org\r\n" +
		"To: bob@arrny.mil\r\n" +
		"X-Evil: <script>alert(\"x\")</script>\r\n" +
		"Subject: Orders\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
		"\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nBODY-SECRET\r\n" +
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"orders.pdf\"\r\n\r\nJVBERi0=\r\n" +
		"--b1--\r\n"
	m := sampleMessage(`Orders <b>now</b>`)
	m.AuthUser, m.QueueID = "alice", "4XyZ1"
	id := f.hold(t, m, raw)
	c := f.session(t, adminUser, adminPass)
	r := f.get(t, "/admin/m/"+id, c)
	wantAdmin(t, r, 200,
		"X-Evil: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "Orders &lt;b&gt;now&lt;/b&gt;",
		"From: alice@example.org", "alice@example.org", "192.0.2.10", "4XyZ1", "milter",
		"bob@arrny.mil", "hold", "army.mil", "rn-m", "looks like army.mil", "carol@example.net", "allow",
		"orders.pdf", "2026-03-01 09:30 UTC", "2026-03-08 09:30 UTC",
		`action="/admin/m/`+id+`/act"`, `value="release"`, `value="correct"`, `value="discard"`)
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<b>now") {
		t.Errorf("unescaped content\n%s", r.body)
	}
	if strings.Contains(r.body, "BODY-SECRET") {
		t.Error("the page shows the body")
	}
	if strings.Contains(r.body, `value="retry"`) {
		t.Error("retry offered for a held message")
	}
	if !regexp.MustCompile(`(?s)Audit log.*2026-03-01 09:30 UTC.*none.*held.*milter.*192\.0\.2\.10`).MatchString(r.body) {
		t.Errorf("audit events missing\n%s", r.body)
	}
	wantAdmin(t, f.get(t, "/admin/m/NoSuchMessage", c), http.StatusNotFound, "Message not found")
}

func TestAdminMessagePurgedShowsAudit(t *testing.T) {
	f := newAdminFixture(t)
	if err := f.store.Transition(context.Background(), f.id, quarantine.Held, quarantine.Discarded, "admin:x", "cli", ""); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour)
	if n, err := f.store.Purge(context.Background(), f.clk.Now()); err != nil || n != 1 {
		t.Fatalf("purge %d %v", n, err)
	}
	c := f.session(t, adminUser, adminPass)
	wantAdmin(t, f.get(t, "/admin/m/"+f.id, c), http.StatusNotFound, "has been purged", "discarded", "admin:x")
}

func TestAdminStatsPage(t *testing.T) {
	f := newAdminFixture(t)
	f.clk.Advance(-3 * 24 * time.Hour)
	f.hold(t, sampleMessage("Three days ago"), rawMessage)
	f.hold(t, sampleMessage("Three days ago too"), rawMessage)
	f.clk.Advance(3 * 24 * time.Hour)
	c := f.session(t, adminUser, adminPass)
	r := f.get(t, "/admin/stats", c)
	wantAdmin(t, r, 200, "<svg", `viewBox="0 0 640 240"`, "Since 31 January 2026",
		"Sun 1 Mar 2026: 1 held", "Thu 26 Feb 2026: 2 held", "Sat 31 Jan 2026: 0 held",
		"3 in all", "rn-m", "arrny.mil", "held")
	if n := strings.Count(r.body, `<rect class="bar"`); n != 30 {
		t.Errorf("%d bars, want 30", n)
	}
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "style=") || strings.Contains(r.body, "<img") {
		t.Error("stats page uses scripts, inline styles or images")
	}
}

func TestAdminAuditPage(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	page := f.get(t, "/admin/m/"+f.id, c)
	f.clk.Advance(time.Minute)
	f.req(t, "POST", "/admin/m/"+f.id+"/act", url.Values{"choice": {"discard"}, "csrf": {csrfOf(t, page.body)}}, c, "192.0.2.44")
	r := f.get(t, "/admin/audit", c)
	wantAdmin(t, r, 200, "Audit log", `href="/admin/m/`+f.id+`"`, "discarded", "admin:root", "192.0.2.44",
		"2026-03-01 09:31 UTC", "milter")
	if i, j := strings.Index(r.body, "admin:root"), strings.Index(r.body, "milter"); i < 0 || j < i {
		t.Error("audit log not newest first")
	}
	if strings.Contains(r.body, "Older") {
		t.Error("pager shown for one page")
	}
	for range auditPageSize {
		f.hold(t, sampleMessage("x"), "Subject: x\r\n\r\nx")
	}
	wantAdmin(t, f.get(t, "/admin/audit", c), 200, `href="/admin/audit?offset=100"`)
	last := f.get(t, "/admin/audit?offset=100", c)
	wantAdmin(t, last, 200, "admin:root", `href="/admin/audit?offset=0"`)
}

func TestAdminPagesSecurityHeaders(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	for _, p := range []string{"/admin/login", "/admin/", "/admin/m/" + f.id, "/admin/stats", "/admin/audit", "/admin/nosuch"} {
		var r adminResp
		if p == "/admin/login" {
			r = f.get(t, p, nil)
		} else {
			r = f.get(t, p, c)
		}
		csp := r.hdr.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") ||
			r.hdr.Get("X-Frame-Options") != "DENY" || r.hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", p, r.hdr)
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, " style=") {
			t.Errorf("%s: script or inline style", p)
		}
		if !strings.Contains(r.body, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
			t.Errorf("%s: no viewport", p)
		}
	}
}

func TestAdminHandlerRefusesShortKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short key")
		}
	}()
	(&Admin{Key: []byte("short")}).Handler()
}

func TestLimiterIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":             "192.0.2.1",
		"::ffff:192.0.2.1":      "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:db8:1:2::1%eth0":  "2001:db8:1:2::/64",
		"not an address at all": "not an address at all",
	} {
		if got := ratelimit.ClientKeyOf(in); got != want {
			t.Errorf("ClientKeyOf(%q) = %q, want %q", in, got, want)
		}
	}
}
