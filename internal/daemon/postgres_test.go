package daemon

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestRelayHoldAndReleaseOnPostgres is the relay's whole story with the quarantine in a
// real PostgreSQL instead of SQLite.
func TestRelayHoldAndReleaseOnPostgres(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	sink := testenv.StartSink(t)
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  upstream: " + sink.Addr() + "\nnotice:\n  from: rcptguard@contoso.com\nquarantine:\n  postgres: \"" + dsn + "\"\n"
	d, _ := startDaemon(t, cfg)
	if _, ok := d.quarantine.(*quarantine.Postgres); !ok {
		t.Fatalf("quarantine is a %T, want PostgreSQL", d.quarantine)
	}
	story(t, d, sink, d.Addr("relay"), "relay-postgres", nil)
}

// TestTwoNodesShareTheQuarantine: two rcptguard nodes on one PostgreSQL quarantine and one
// link key. A message held by the first is released from the second node's page; the
// choice works once across both, and the message goes out once.
func TestTwoNodesShareTheQuarantine(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	sink := testenv.StartSink(t)
	key := filepath.Join(t.TempDir(), "token.key")
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  upstream: " + sink.Addr() + "\nnotice:\n  from: rcptguard@contoso.com\n  key_file: " + key +
		"\nquarantine:\n  postgres: \"" + dsn + "\"\n"
	a, _ := startDaemon(t, cfg)
	b, _ := startDaemon(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	msg := []byte("From: a@contoso.com\r\nTo: bob@army.ml\r\nSubject: two nodes\r\n\r\nsecret\r\n")
	res, err := testenv.SMTPSend(a.Addr("relay"), "a@contoso.com", []string{"bob@army.ml"}, msg)
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	got, err := sink.WaitFor(ctx, 1) // the notice
	if err != nil {
		t.Fatal(err)
	}
	links := noticeLinks(t, got[0].Data)
	if len(links) == 0 {
		t.Fatalf("no link in the notice:\n%s", got[0].Data)
	}
	// The same link on node B.
	onB := "http://" + b.Addr("web") + links[0][strings.Index(links[0], "/v/"):]
	page := httpGet(t, onB)
	csrf := formToken(t, page, "correct")
	post := func(base string) int {
		resp, err := http.PostForm(base, url.Values{"choice": {"correct"}, "csrf": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(onB); code != http.StatusOK {
		t.Fatalf("choice on node B: %d", code)
	}
	if code := post(links[0]); code != http.StatusConflict {
		t.Fatalf("the same choice on node A: %d, want 409", code)
	}
	got, err = sink.WaitFor(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got[1].Rcpts, ",") != "bob@army.mil" {
		t.Fatalf("released to %q", got[1].Rcpts)
	}
	l, _ := a.quarantine.List(ctx, quarantine.Filter{})
	if len(l) != 1 {
		t.Fatalf("%d messages", len(l))
	}
	waitDelivery(t, ctx, a, l[0].ID)
	if n := len(sink.Messages()); n != 2 {
		t.Fatalf("%d messages at the sink, want the notice and the released message once", n)
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
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

// formToken is the CSRF token of the page's form for choice.
func formToken(t *testing.T, page, choice string) string {
	t.Helper()
	for _, f := range regexp.MustCompile(`(?s)<form[^>]*>.*?</form>`).FindAllString(page, -1) {
		if strings.Contains(f, `value="`+choice+`"`) {
			if m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(f); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no %s form with a CSRF token:\n%s", choice, page)
	return ""
}
