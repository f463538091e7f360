package milter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/spool"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

const testSpoolAbove = 64 << 10

func openSpool(t *testing.T) *spool.Dir {
	t.Helper()
	d, err := spool.Open(filepath.Join(t.TempDir(), "spool"), testSpoolAbove)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func spoolCount(t *testing.T, d *spool.Dir) int {
	t.Helper()
	entries, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestHoldSpoolsALargeBody: the content of a large message to hold goes to a spool file
// past the threshold, is held exactly, and the file is removed.
func TestHoldSpoolsALargeBody(t *testing.T) {
	t.Parallel()
	q := openStore(t)
	sp := openSpool(t)
	spooled := false
	h := holderFunc(func(ctx context.Context, sub held.Submission) (string, error) {
		spooled = spoolCount(t, sp) == 1
		return storeHolder(q).Hold(ctx, sub)
	})
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: h, Spool: sp})
	body := largeBody(300 << 10)
	res := dial(t, addr, smtpClient, withoutLeadSpaceAndSkip).sendBody("alice@contoso.com", []string{"bob@army.ml"}, plainHeader, body, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionDiscard {
		t.Fatalf("eom %v, want discard", res.eom)
	}
	if !spooled {
		t.Error("the content was not in a spool file when it was held")
	}
	msgs := stored(t, q)
	want := "From: alice@contoso.com\r\nSubject: Travel plans of the general\r\n\r\n" + body
	if len(msgs) != 1 || string(msgs[0].Raw) != want {
		t.Fatalf("stored %d messages; raw content differs", len(msgs))
	}
	if n := spoolCount(t, sp); n != 0 {
		t.Errorf("%d spool files left", n)
	}
}

// TestSpoolRemovedWhenMTAGoes: the spool file of a message under way goes with the
// connection; memory stays at most about the threshold meanwhile.
func TestSpoolRemovedWhenMTAGoes(t *testing.T) {
	t.Parallel()
	sp := openSpool(t)
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(openStore(t)), Spool: sp})
	c := dial(t, addr, smtpClient, withoutLeadSpaceAndSkip)
	c.macros.Set(gomilter.MacroRcptMailer, "smtp")
	must := func(_ *gomilter.Action, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.sess.Mail("alice@contoso.com", ""))
	must(c.sess.Rcpt("bob@army.ml", ""))
	must(c.sess.DataStart())
	must(c.sess.HeaderField("Subject", "big", nil))
	must(c.sess.HeaderEnd())
	chunk := []byte(strings.Repeat("0123456789abcdef", 4000)) // 64,000 bytes
	for range 16 {
		must(c.sess.BodyChunk(chunk))
		if n := sp.InMemory(); n > testSpoolAbove*5/4 {
			t.Fatalf("%d bytes in memory", n)
		}
	}
	if n := spoolCount(t, sp); n != 1 {
		t.Fatalf("%d spool files, want 1", n)
	}
	c.sess.Close()
	testenv.WaitFor(t, "spool file removed", func() bool { return spoolCount(t, sp) == 0 })
}
