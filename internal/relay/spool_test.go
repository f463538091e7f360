package relay

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/spool"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

const testSpoolAbove = 64 << 10

// openSpool makes a spool folder of the test's with a 64 KiB threshold.
func openSpool(t *testing.T) *spool.Dir {
	t.Helper()
	d, err := spool.Open(filepath.Join(t.TempDir(), "spool"), testSpoolAbove)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// spoolFiles lists the spool folder's files and their sizes.
func spoolFiles(t *testing.T, d *spool.Dir) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			out[e.Name()] = fi.Size()
		}
	}
	return out
}

// chunk is n bytes of message text in lines.
func chunk(n int) string {
	line := strings.Repeat("x", 98) + "\r\n"
	return strings.Repeat(line, n/len(line)) + strings.Repeat("y", n%len(line))
}

// TestBDATSpooledAboveThreshold: a client that sends 1 MB of BDAT without LAST costs the
// relay at most the spool threshold in memory; the rest is in a spool file, which goes
// when the connection drops.
func TestBDATSpooledAboveThreshold(t *testing.T) {
	t.Parallel()
	sp := openSpool(t)
	r := startRelay(t, func(s *Server) { s.Spool = sp })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	const size, chunks = 100_000, 10
	maxMem := int64(0)
	for i := range chunks {
		fmt.Fprintf(c, "BDAT %d\r\n%s", size, chunk(size))
		if got := c.reply(); !strings.HasPrefix(got, "250") {
			t.Fatalf("BDAT %d: %q", i, got)
		}
		maxMem = max(maxMem, sp.InMemory())
	}
	testenv.WaitFor(t, "1 MB in a spool file", func() bool {
		files := spoolFiles(t, sp)
		for name, n := range files {
			return len(files) == 1 && strings.HasPrefix(name, "msg-") && n == size*chunks
		}
		return false
	})
	for name := range spoolFiles(t, sp) {
		fi, err := os.Stat(filepath.Join(sp.Path(), name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("spool file %s: %v, mode %v", name, err, fi.Mode())
		}
	}
	if fi, err := os.Stat(sp.Path()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool folder mode %v, %v", fi.Mode(), err)
	}
	if maxMem > testSpoolAbove*5/4 || sp.InMemory() > testSpoolAbove*5/4 {
		t.Errorf("in memory: up to %d bytes, now %d, want at most about %d", maxMem, sp.InMemory(), testSpoolAbove)
	}
	c.Close()
	testenv.WaitFor(t, "spool file removed after the client went", func() bool { return len(spoolFiles(t, sp)) == 0 })
	if n := sp.InMemory(); n != 0 {
		t.Errorf("%d bytes still in memory", n)
	}
}

// TestBDATSpooledMessageRelayed: a message spooled to a file reaches the upstream intact,
// and the file is removed.
func TestBDATSpooledMessageRelayed(t *testing.T) {
	t.Parallel()
	sp := openSpool(t)
	r := startRelay(t, func(s *Server) { s.Spool = sp })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	body := "Subject: big\r\n\r\n" + chunk(300_000) + "\r\n"
	fmt.Fprintf(c, "BDAT %d\r\n%s", 200_000, body[:200_000])
	if got := c.reply(); !strings.HasPrefix(got, "250") {
		t.Fatalf("BDAT: %q", got)
	}
	fmt.Fprintf(c, "BDAT %d LAST\r\n%s", len(body)-200_000, body[200_000:])
	if got := c.reply(); !strings.HasPrefix(got, "250 2.0.0 Ok, relayed") {
		t.Fatalf("BDAT LAST: %q", got)
	}
	msgs := r.sink.Messages()
	if len(msgs) != 1 || !bytes.HasSuffix(msgs[0].Data, []byte(body)) {
		t.Fatalf("sink got %d messages, or not the message sent", len(msgs))
	}
	if files := spoolFiles(t, sp); len(files) != 0 {
		t.Errorf("spool files left: %v", files)
	}
}

// TestHoldSpooledMessage: a large message to hold is spooled while it comes, and held
// exactly as sent.
func TestHoldSpooledMessage(t *testing.T) {
	t.Parallel()
	sp := openSpool(t)
	st := openStore(t)
	var sawFile bool
	r := startRelay(t, func(s *Server) {
		s.Spool = sp
		h := &storeHolder{store: st}
		s.Holder = holderFunc(func(ctx context.Context, sub held.Submission) (string, error) {
			sawFile = len(spoolFiles(t, sp)) == 1
			return h.Hold(ctx, sub)
		})
	})
	body := "Subject: held big\r\n\r\n" + chunk(500_000) + "\r\n"
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<x@army.ml>")
	c.expect("354", "DATA")
	c.expect("250 2.0.0 Ok, held as ", "%s.", body)
	if !sawFile {
		t.Error("the message was not spooled")
	}
	held := storedMessages(t, st)
	if len(held) != 1 || held[0].Subject != "held big" {
		t.Fatalf("store holds %d messages", len(held))
	}
	splitTrace(t, held[0].Raw, []byte(body))
	if files := spoolFiles(t, sp); len(files) != 0 {
		t.Errorf("spool files left: %v", files)
	}
}

// TestBDATContentSpooledOnce: with content rules on, a large message sent with BDAT to a
// warned lookalike is spooled once, while it comes: the classifier reads that copy (it
// finds the password, so the message is held), and the copy held has the client's forged
// X-Rcptguard- field dropped.
func TestBDATContentSpooledOnce(t *testing.T) {
	t.Parallel()
	sp := openSpool(t)
	st := openStore(t)
	cl, err := content.New(content.Config{})
	if err != nil {
		t.Fatal(err)
	}
	files := -1
	r := startRelay(t, func(s *Server) {
		s.Spool = sp
		s.Content = cl
		s.ContentRules = guard.ContentRules{Escalate: map[content.Category]guard.Verdict{content.Credentials: guard.Hold}}
		h := &storeHolder{store: st}
		s.Holder = holderFunc(func(ctx context.Context, sub held.Submission) (string, error) {
			files = len(spoolFiles(t, sp))
			if strings.Contains(string(sub.Content), "X-Rcptguard-Verdict") || strings.Join(sub.Categories, ",") != "credentials" {
				t.Errorf("held copy: forged field kept, or categories %q", sub.Categories)
			}
			return h.Hold(ctx, sub)
		})
	})
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<bob@armmy.mil>")
	body := "X-Rcptguard-Verdict: allow\r\nSubject: access\r\n\r\nPassword: Tr0ub4dor&3x\r\n" + chunk(300_000) + "\r\n"
	fmt.Fprintf(c, "BDAT %d\r\n%s", 200_000, body[:200_000])
	if got := c.reply(); !strings.HasPrefix(got, "250") {
		t.Fatalf("BDAT: %q", got)
	}
	fmt.Fprintf(c, "BDAT %d LAST\r\n%s", len(body)-200_000, body[200_000:])
	if got := c.reply(); !strings.HasPrefix(got, "250 2.0.0 Ok, held") {
		t.Fatalf("BDAT LAST: %q", got)
	}
	if files != 1 {
		t.Errorf("%d spool files while holding, want the one copy", files)
	}
	if left := spoolFiles(t, sp); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}
