package daemon

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// twoNodes starts two rcptguard nodes, each with a data folder of its own, on one
// PostgreSQL database and one link key, with a relay in front of sink and an
// administrator root whose password is "admin password". extra is added to the
// configuration.
func twoNodes(t *testing.T, sink *testenv.Sink, extra string) (a, b *Daemon) {
	t.Helper()
	dsn := testenv.StartPostgres(t)
	key := filepath.Join(t.TempDir(), "token.key")
	hash, err := bcrypt.GenerateFromPassword([]byte("admin password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  upstream: " + sink.Addr() + "\nnotice:\n  from: rcptguard@contoso.com\n  key_file: " + key +
		"\nquarantine:\n  postgres: \"" + dsn + "\"\nadmin:\n  users:\n    root: \"" + string(hash) + "\"\n" + extra
	a, _ = startDaemon(t, cfg) // each in a folder of its own: data_dir is relative to it
	b, _ = startDaemon(t, cfg)
	return a, b
}

// admin is a browser on the administrators' pages of both nodes: the nodes listen on
// the same host, so it sends the session cookie to both.
type admin struct {
	t *testing.T
	c *http.Client
}

func newAdmin(t *testing.T) *admin {
	jar, _ := cookiejar.New(nil)
	return &admin{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (ad *admin) do(method, u string, form url.Values) (int, string) {
	ad.t.Helper()
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = ad.c.Get(u)
	} else {
		resp, err = ad.c.PostForm(u, form)
	}
	if err != nil {
		ad.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (ad *admin) signIn(node *Daemon, password string) int {
	ad.t.Helper()
	code, _ := ad.do("POST", "http://"+node.Addr("web")+"/admin/login", url.Values{"user": {"root"}, "password": {password}})
	return code
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestTwoNodesForReal: two nodes on one PostgreSQL database share what an administrator
// relies on: a session begun on one works on the other and ends on both when signed out
// on either; a message held by one is released from the other's admin page and goes out
// once; failed sign-ins spread over both add up to one limit.
func TestTwoNodesForReal(t *testing.T) {
	sink := testenv.StartSink(t)
	a, b := twoNodes(t, sink, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ad := newAdmin(t)
	onA, onB := "http://"+a.Addr("web"), "http://"+b.Addr("web")

	// Sessions: signed in on A, the session works on B.
	if code := ad.signIn(a, "admin password"); code != http.StatusSeeOther {
		t.Fatalf("sign-in on node A: %d", code)
	}
	if code, page := ad.do("GET", onB+"/admin/", nil); code != http.StatusOK || !strings.Contains(page, "Sign out") {
		t.Fatalf("node B with node A's session: %d\n%s", code, page)
	}

	// A message held on A is released from B's admin page, and goes out once.
	msg := []byte("From: a@contoso.com\r\nTo: bob@army.ml\r\nSubject: two nodes for real\r\n\r\nsecret\r\n")
	if res, err := testenv.SMTPSend(a.Addr("relay"), "a@contoso.com", []string{"bob@army.ml"}, msg); err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := sink.WaitFor(ctx, 1); err != nil { // the notice
		t.Fatal(err)
	}
	held, err := a.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
	if err != nil || len(held) != 1 {
		t.Fatalf("held on A: %d, %v", len(held), err)
	}
	id := held[0].ID
	code, page := ad.do("GET", onB+"/admin/m/"+id, nil)
	m := csrfField.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("the message on node B: %d\n%s", code, page)
	}
	if code, _ := ad.do("POST", onB+"/admin/m/"+id+"/act", url.Values{"choice": {"correct"}, "csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Fatalf("release on node B: %d", code)
	}
	got, err := sink.WaitFor(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got[1].Rcpts, ",") != "bob@army.mil" || !strings.Contains(string(got[1].Data), "two nodes for real") {
		t.Fatalf("released to %q:\n%s", got[1].Rcpts, got[1].Data)
	}
	waitDelivery(t, ctx, a, id)
	if m, err := b.quarantine.Get(ctx, id); err != nil || m.State != quarantine.ReleasedCorrected || m.Delivery != quarantine.DeliverySent {
		t.Fatalf("on node B the message is %v, delivery %v (%v)", m.State, m.Delivery, err)
	}
	if n := len(sink.Messages()); n != 2 {
		t.Fatalf("%d messages at the upstream, want the notice and the released message once", n)
	}

	// Signed out on B: the session is gone on A too.
	_, page = ad.do("GET", onA+"/admin/", nil)
	m = csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-out form on node A:\n%s", page)
	}
	if code, _ := ad.do("POST", onB+"/admin/logout", url.Values{"csrf": {m[1]}}); code != http.StatusSeeOther {
		t.Fatalf("sign-out on node B: %d", code)
	}
	if code, _ := ad.do("GET", onA+"/admin/", nil); code != http.StatusSeeOther {
		t.Fatalf("node A after the sign-out on node B: %d, want the redirect to the sign-in page", code)
	}

	// Failed sign-ins spread over the nodes add up: three on A and two on B reach the
	// limit of five, and then even the right password is refused on both.
	for i, n := range []*Daemon{a, a, a, b, b} {
		if code := ad.signIn(n, "wrong"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, code)
		}
	}
	for _, n := range []*Daemon{a, b} {
		if code := ad.signIn(n, "admin password"); code != http.StatusTooManyRequests {
			t.Fatalf("the right password after five failures on both nodes: %d, want 429", code)
		}
	}
}
