package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestAdminTrustTakesEffectAtOnce: mail to a lookalike of a provider is held; an
// administrator trusts the domain on the admin page; the next message to it goes out
// unasked, at once (well before the periodic check), while the message held before
// stays held.
func TestAdminTrustTakesEffectAtOnce(t *testing.T) {
	sink := testenv.StartSink(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("admin password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  upstream: " + sink.Addr() + "\nnotice:\n  from: rcptguard@contoso.com\n" +
		"admin:\n  users:\n    root: \"" + string(hash) + "\"\n"
	d, _ := startDaemon(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	send := func(subject string) {
		t.Helper()
		msg := []byte("From: a@contoso.com\r\nTo: bob@gmial.com\r\nSubject: " + subject + "\r\n\r\nhello\r\n")
		res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"bob@gmial.com"}, msg)
		if err != nil || !res.Delivered() {
			t.Fatalf("send %s: %+v %v", subject, res, err)
		}
	}
	send("before")
	held, err := d.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
	if err != nil || len(held) != 1 {
		t.Fatalf("held before the trust: %d, %v", len(held), err)
	}

	// Sign in and trust gmial.com on the admin page.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	base := "http://" + d.Addr("web")
	resp, err := c.PostForm(base+"/admin/login", url.Values{"user": {"root"}, "password": {"admin password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	page := getPage(t, c, base+"/admin/trust")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the trust page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/admin/trust", url.Values{"action": {"add"}, "domain": {"gmial.com"},
		"note": {"a real company"}, "csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "a real company") {
		t.Fatalf("trust on the admin page: %d\n%s", resp.StatusCode, body)
	}
	// The engine is rebuilt at once: well within the periodic check's 15 seconds.
	deadline := time.Now().Add(5 * time.Second)
	for d.Guard.Load().Check("bob@gmial.com").Verdict.String() != "allow" {
		if time.Now().After(deadline) {
			t.Fatal("gmial.com still flagged 5 s after the administrator trusted it")
		}
		time.Sleep(5 * time.Millisecond) // polling the condition
	}
	var answer struct {
		Recipients []struct{ Verdict, Reason string }
	}
	resp, err = http.Post("http://"+d.Addr("http")+"/api/v1/check", "application/json", strings.NewReader(`{"recipients":["gmial.com"]}`))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if len(answer.Recipients) != 1 || answer.Recipients[0].Reason != "gmial.com was trusted by your organisation's administrators." {
		t.Errorf("API answer %+v", answer)
	}

	before := len(sink.Messages())
	send("after")
	got, err := sink.WaitFor(ctx, before+1)
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if strings.Join(last.Rcpts, ",") != "bob@gmial.com" || !strings.Contains(string(last.Data), "Subject: after") {
		t.Fatalf("last message at the upstream: %v\n%s", last.Rcpts, last.Data)
	}
	// The message held before the trust is still held: trusting releases nothing.
	if m, err := d.quarantine.Get(ctx, held[0].ID); err != nil || m.State != quarantine.Held {
		t.Fatalf("the message held before: %v, %v", m.State, err)
	}
}

func getPage(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}

// TestTrustReachesTheOtherNode: two nodes on one PostgreSQL quarantine; a domain trusted
// on node A is allowed on node B after B's periodic check, and withdrawn likewise.
func TestTrustReachesTheOtherNode(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	cfg := "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n" +
		"  web: 127.0.0.1:0\n  intake: off\nquarantine:\n  postgres: \"" + dsn + "\"\n"
	a, path := startDaemon(t, cfg)
	b := &Daemon{ConfigPath: path, TrustCheckEvery: 20 * time.Millisecond}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Shutdown(context.Background()) })
	ctx := context.Background()
	waitVerdict := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for b.Guard.Load().Check("gmial.com").Verdict.String() != want {
			if time.Now().After(deadline) {
				t.Fatalf("node B: gmial.com not %s after 10 s", want)
			}
			time.Sleep(5 * time.Millisecond) // polling the condition
		}
	}
	waitVerdict("hold")
	if _, err := a.trust.Add(ctx, "gmial.com", "admin:root", "192.0.2.1", "", false); err != nil {
		t.Fatal(err)
	}
	waitVerdict("allow")
	if err := a.trust.Remove(ctx, "gmial.com", "admin:root", "192.0.2.1", ""); err != nil {
		t.Fatal(err)
	}
	waitVerdict("hold")
}
