package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/session"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// refused checks that the cookie opens nothing: GET pages go to the sign-in form, and
// POST actions, with the session's own CSRF token, are refused and change nothing.
func (f *adminFixture) refused(t *testing.T, c *http.Cookie, csrf, why string) {
	t.Helper()
	for _, p := range []string{"/admin/", "/admin/m/" + f.id, "/admin/stats", "/admin/audit"} {
		if r := f.get(t, p, c); r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/login" {
			t.Errorf("%s: GET %s: %d, Location %q", why, p, r.code, r.hdr.Get("Location"))
		}
	}
	if r := f.get(t, "/admin/login", c); r.code != http.StatusOK {
		t.Errorf("%s: the sign-in form: %d", why, r.code)
	}
	for _, choice := range []string{"discard", "retry"} {
		r := f.req(t, "POST", "/admin/m/"+f.id+"/act", url.Values{"choice": {choice}, "csrf": {csrf}}, c, "")
		if r.code != http.StatusForbidden {
			t.Errorf("%s: POST %s: %d, want 403", why, choice, r.code)
		}
	}
	if n := len(f.decider.Calls()); n != 0 {
		t.Fatalf("%s: decider called %d times", why, n)
	}
	if s := f.state(t, f.id); s != quarantine.Held {
		t.Fatalf("%s: state %v", why, s)
	}
}

// restart replaces the Admin by a new one on the same stores, as a restart of the
// daemon with a changed configuration does; change sets its configuration.
func (f *adminFixture) restart(change func(a *Admin)) {
	f.admin = &Admin{Store: f.store, Stats: f.store, Decider: f.decider, Users: testHashes(), Key: f.admin.Key,
		Now: f.clk.Now, Sessions: f.sessions}
	change(f.admin)
	f.h = f.admin.Handler()
}

func TestAdminSignOutEndsSessionServerSide(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	other := f.session(t, adminUser, adminPass) // the same user in another browser
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	r := f.req(t, "POST", "/admin/logout", url.Values{"csrf": {tok}}, c, "")
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != "/admin/login" {
		t.Fatalf("sign-out: %d %q", r.code, r.hdr.Get("Location"))
	}
	// The browser forgets the cookie; a copy kept from before opens nothing.
	f.refused(t, c, tok, "signed-out cookie")
	if r := f.req(t, "POST", "/admin/logout", url.Values{"csrf": {tok}}, c, ""); r.code != http.StatusForbidden {
		t.Errorf("second sign-out: %d", r.code)
	}
	// The other session of the same user goes on.
	wantAdmin(t, f.get(t, "/admin/", other), 200, "Orders for Monday")
}

func TestAdminSessionStoresOnlyTheTokenHash(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != 32 {
		t.Fatalf("cookie %q: not 256 random bits: %v", c.Value, err)
	}
	h, _ := session.HashToken(c.Value)
	s, err := f.sessions.Get(context.Background(), h)
	if err != nil || s.User != adminUser || s.Remote != "192.0.2.1" {
		t.Fatalf("stored session %+v, %v", s, err)
	}
	// Neither spelling of the token is anywhere in the database's files.
	files, _ := filepath.Glob(filepath.Join(f.sessDir, session.FileName+"*"))
	if len(files) == 0 {
		t.Fatal("no session database")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, raw) || bytes.Contains(b, []byte(c.Value)) {
			t.Errorf("%s holds the session token", filepath.Base(p))
		}
	}
}

func TestAdminSessionIdleTimeout(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	// Used every 25 minutes, it stays open past the default 30-minute idle timeout.
	for range 4 {
		f.clk.Advance(25 * time.Minute)
		wantAdmin(t, f.get(t, "/admin/", c), 200, "Orders for Monday")
	}
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	f.clk.Advance(session.DefaultIdle)
	f.refused(t, c, tok, "idle session")

	// A configured idle timeout.
	f.restart(func(a *Admin) { a.SessionIdle = 5 * time.Minute })
	c = f.session(t, adminUser, adminPass)
	f.clk.Advance(4 * time.Minute)
	wantAdmin(t, f.get(t, "/admin/", c), 200)
	f.clk.Advance(5 * time.Minute)
	f.refused(t, c, tok, "idle for the configured 5 minutes")
}

func TestAdminSessionMaxLifetime(t *testing.T) {
	f := newAdminFixture(t)
	f.restart(func(a *Admin) { a.SessionMax = time.Hour })
	r := f.login(t, adminUser, adminPass, "")
	if cs := r.res.Cookies(); len(cs) != 1 || cs[0].MaxAge != 3600 || !cs[0].Expires.Equal(f.clk.Now().Add(time.Hour)) {
		t.Fatalf("cookie %+v", cs)
	}
	c := &http.Cookie{Name: adminCookie, Value: r.res.Cookies()[0].Value}
	for range 5 {
		f.clk.Advance(11 * time.Minute)
		wantAdmin(t, f.get(t, "/admin/", c), 200)
	}
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	f.clk.Advance(5 * time.Minute) // an hour after sign-in, however busy
	f.refused(t, c, tok, "session past admin.session_max")
}

func TestAdminPasswordChangeRevokesSessions(t *testing.T) {
	f := newAdminFixture(t)
	c := f.session(t, adminUser, adminPass)
	otherC := f.session(t, "other", "other password")
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	// The password changes in admin.users; the daemon restarts with it (a new Admin on
	// the same session store).
	users := map[string]string{}
	for k, v := range testHashes() {
		users[k] = v
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("new password"), bcrypt.MinCost)
	users[adminUser] = string(h)
	f.restart(func(a *Admin) { a.Users = users })
	f.refused(t, c, tok, "session from before the password change")
	wantAdmin(t, f.get(t, "/admin/", otherC), 200, "Orders for Monday")
	// Revoked for good: putting the old hash back does not revive it.
	users[adminUser] = testHashes()[adminUser]
	f.refused(t, c, tok, "session after the old password came back")
	// The new password signs in.
	f.session(t, adminUser, adminPass)
}

// TestAdminPasswordChangeByReloadRevokesAtOnce: with UsersNow (the daemon's reloaded
// admin.users), a changed password hash ends the user's sessions without a restart.
func TestAdminPasswordChangeByReloadRevokesAtOnce(t *testing.T) {
	f := newAdminFixture(t)
	var mu sync.Mutex
	users := testHashes()
	f.admin.UsersNow = func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return users
	}
	c := f.session(t, adminUser, adminPass)
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	wantAdmin(t, f.get(t, "/admin/", c), 200, "Orders for Monday")
	h, _ := bcrypt.GenerateFromPassword([]byte("new password"), bcrypt.MinCost)
	next := map[string]string{}
	for k, v := range users {
		next[k] = v
	}
	next[adminUser] = string(h)
	mu.Lock()
	users = next
	mu.Unlock()
	f.refused(t, c, tok, "session from before the reload that changed the password")
	f.session(t, adminUser, "new password")
}

func TestAdminSessionStoreFailureRefuses(t *testing.T) {
	f := newAdminFixture(t)
	var failures int
	f.admin.StoreError = func() { failures++ }
	c := f.session(t, adminUser, adminPass)
	tok := csrfOf(t, f.get(t, "/admin/", c).body)
	f.sessions.Close()
	f.refused(t, c, tok, "session that cannot be checked")
	if failures == 0 {
		t.Error("store failures not counted")
	}
	n := failures
	wantAdmin(t, f.login(t, adminUser, adminPass, ""), http.StatusServiceUnavailable, "could not be stored")
	if failures == n {
		t.Error("failed sign-in not counted")
	}
}

// TestAdminSessionsSharedAcrossNodes: two nodes with the session store in one
// PostgreSQL database; a session made on one works on the other, and signing out on
// the other ends it on both.
func TestAdminSessionsSharedAcrossNodes(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	f := newAdminFixture(t)
	node := func() http.Handler {
		ss, err := session.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ss.Close() })
		a := &Admin{Store: f.store, Stats: f.store, Decider: f.decider, Users: testHashes(), Key: f.admin.Key,
			Now: f.clk.Now, Sessions: ss}
		return a.Handler()
	}
	a, b := node(), node()
	f.h = a
	c := f.session(t, adminUser, adminPass)
	f.h = b
	page := f.get(t, "/admin/m/"+f.id, c)
	wantAdmin(t, page, 200, "Orders for Monday", "Sign out")
	tok := csrfOf(t, page.body)
	f.h = a
	if r := f.req(t, "POST", "/admin/m/"+f.id+"/act", url.Values{"choice": {"retry"}, "csrf": {tok}}, c, ""); r.code != http.StatusSeeOther {
		t.Fatalf("action on node a with node b's form: %d\n%s", r.code, r.body)
	}
	f.decider.mu.Lock()
	f.decider.calls = nil
	f.decider.mu.Unlock()
	f.h = b
	if r := f.req(t, "POST", "/admin/logout", url.Values{"csrf": {tok}}, c, ""); r.code != http.StatusSeeOther {
		t.Fatalf("sign-out on node b: %d", r.code)
	}
	f.h = a
	f.refused(t, c, tok, "node a after sign-out on node b")
}
