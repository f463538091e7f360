package cli

import (
	"os"
	"strings"
	"testing"
)

// The example report of docs/squat.md is what the command prints today for
// testdata/squat.yaml against the DNS of testdata/squat-zone.txt (the server's address
// written as 127.0.0.1:53).
func TestSquatDocExample(t *testing.T) {
	srv := squatDNS(t)
	r := squatRun(t, srv)
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	got := strings.ReplaceAll(r.stdout, srv.Addr(), "127.0.0.1:53")
	if os.Getenv("SQUAT_DOC_PRINT") != "" {
		t.Logf("\n%s", got)
	}
	if strings.TrimRight(got, "\n") != docExample(t, "squat.md", "squat") {
		t.Errorf("docs/squat.md's example differs from the command's output:\n%s", got)
	}
}
