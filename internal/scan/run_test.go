package scan

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// sample is a testlog source: 3 messages to gmai.com (one sent, one bounced, one
// deferred) among 200 to a legitimate domain, so that compressed, it is more than a few
// bytes.
func sample() []byte {
	lines := []string{
		tl(at(0, 1), "alice@corp.example", "bob@gmai.com", "sent", "Q1"),
		tl(at(0, 2), "alice@corp.example", "bob@gmai.com", "bounced", "Q2"),
		tl(at(1, 2), "carol@corp.example", "bob@gmai.com", "deferred", "Q3"),
	}
	for i := range 200 {
		lines = append(lines, tl(at(i%3, i%24), "dan@corp.example", "x@example.org", "sent", "R"+itoa(int64(i))))
	}
	return testlog(lines...)
}

// compress runs the real tool (gzip, bzip2, xz, zstd) on data.
func compress(t *testing.T, tool string, data []byte) []byte {
	t.Helper()
	testenv.RequireTool(t, tool)
	args := map[string][]string{"bzip2": {"-1"}, "xz": {"--block-size=65536"}}[tool]
	cmd := exec.Command(tool, append(args, "-c")...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return out
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunCompressedSources(t *testing.T) {
	dir := t.TempDir()
	var sources []string
	kinds := []string{"gzip", "bzip2", "xz", "zstd"}
	for _, k := range kinds {
		sources = append(sources, write(t, dir, "log-"+k, compress(t, k, sample())))
	}
	sources = append(sources, write(t, dir, "plain", sample()))
	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	res := Run(sources, ta, RunOptions{Workers: 2})
	for i, r := range res {
		want := ""
		if i < len(kinds) {
			want = kinds[i]
		}
		if r.Error != "" || r.Format != "testlog" || r.Compression != want || r.Records != 203 || r.Problems != 0 || r.Bytes == 0 {
			t.Errorf("source %d: %+v", i, r)
		}
	}
	rep := Build(ta, res, Options{})
	if rep.Totals.FlaggedMessages != 15 || rep.Domains[0].Outcomes != (Outcomes{Sent: 5, Bounced: 5, Deferred: 5}) || rep.Totals.Messages != 5*203 {
		t.Fatalf("totals %+v, domains %+v", rep.Totals, rep.Domains)
	}
}

// A truncated compressed stream keeps what was read before the cut, is a Problem naming
// the file, and the other sources are read whole.
func TestRunTruncatedCompressedSources(t *testing.T) {
	dir := t.TempDir()
	// Large and hard to compress, so that every compressor writes several blocks and a
	// cut stream still has whole blocks before the cut.
	rng := rand.New(rand.NewPCG(1, 2))
	lines := make([]string, 0, 6000)
	for i := range cap(lines) {
		lines = append(lines, tl(at(i%30, 0), strconv.FormatUint(rng.Uint64(), 36)+"@corp.example", "x@gmai.com", "sent", strconv.FormatUint(rng.Uint64(), 36)))
	}
	big := testlog(lines...)
	for _, k := range []string{"gzip", "bzip2", "xz", "zstd"} {
		t.Run(k, func(t *testing.T) {
			z := compress(t, k, big)
			cut := write(t, dir, "cut-"+k, z[:len(z)*2/3])
			whole := write(t, dir, "whole-"+k, z)
			ta := NewTally(testGuard(t), time.Time{}, time.Time{})
			res := Run([]string{cut, whole}, ta, RunOptions{Workers: 2})
			// The cut may also leave half a line, which the reader skips.
			if res[0].Error != "" || res[0].Problems < 1 || res[0].Problems > 2 || res[0].Records >= 6000 || res[0].Records == 0 {
				t.Errorf("cut: %+v", res[0])
			}
			if res[1].Error != "" || res[1].Problems != 0 || res[1].Records != 6000 {
				t.Errorf("whole: %+v", res[1])
			}
			rep := Build(ta, res, Options{})
			found := false
			for _, p := range rep.Problems.First {
				found = found || p.Source == cut && strings.Contains(p.Text, "the "+k+" stream is truncated")
			}
			if !found || rep.Problems.Total != res[0].Problems {
				t.Errorf("problems %+v", rep.Problems)
			}
		})
	}
}

func TestRunDirectoryStdinAndErrors(t *testing.T) {
	dir := t.TempDir()
	mail := filepath.Join(dir, "maildir")
	os.Mkdir(mail, 0o700)
	write(t, mail, ".testlog", nil)
	write(t, mail, "1.tl", testlog(tl(at(0, 0), "a@corp.example", "b@gmai.com", "sent", "M1")))
	write(t, mail, "2.tl", testlog(tl(at(0, 0), "a@corp.example", "b@gmial.com", "sent", "M2"), "garbage"))
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o700)
	unknown := write(t, dir, "unknown.log", []byte("Jan  5 09:00:00 host something else\n"))
	empty := write(t, dir, "empty", nil)

	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	res := Run([]string{mail, "-", other, unknown, filepath.Join(dir, "missing"), empty}, ta,
		RunOptions{Stdin: bytes.NewReader(compress(t, "gzip", sample())), Workers: 2})
	if r := res[0]; r.Error != "" || r.Format != "testlog" || r.Records != 2 || r.Problems != 1 {
		t.Errorf("directory: %+v", r)
	}
	if r := res[1]; r.Error != "" || r.Name != "-" || r.Compression != "gzip" || r.Records != 203 {
		t.Errorf("stdin: %+v", r)
	}
	// A directory no format claims is read as a folder of .eml files (register.go).
	if r := res[2]; r.Error != "" || r.Format != "eml" || r.Records != 0 {
		t.Errorf("other directory: %+v", r)
	}
	if r := res[3]; !strings.Contains(r.Error, unknown+": no format recognised (expected one of: ") || !strings.Contains(r.Error, "testlog") ||
		strings.Contains(r.Error, "testdironly") {
		t.Errorf("unknown: %+v", r)
	}
	if r := res[4]; !strings.Contains(r.Error, "missing") {
		t.Errorf("missing: %+v", r)
	}
	if r := res[5]; !strings.Contains(r.Error, "no format recognised") {
		t.Errorf("empty: %+v", r)
	}
	rep := Build(ta, res, Options{})
	if rep.Totals.FlaggedDomains != 2 || rep.Problems.Total != 1 || rep.Problems.First[0].Line != 3 {
		t.Fatalf("report %+v / %+v", rep.Totals, rep.Problems)
	}
}

func TestProgress(t *testing.T) {
	var buf testenv.SyncBuffer
	p := NewProgress(&buf, time.Millisecond)
	var read, lines atomic.Int64
	done := p.Start("mail.log", 1000, &read, &lines)
	read.Store(500)
	lines.Store(7)
	testenv.WaitFor(t, "a progress line", func() bool { return strings.Contains(buf.String(), "mail.log: 500 B, 7 lines") })
	done()
	p.Stop()
	if !strings.Contains(buf.String(), ", done") {
		t.Fatalf("progress %q", buf.String())
	}
	if l := Line("f", 2000, 1000, 10, 2*time.Second, false); l != "f: 1.0 KB, 10 lines, 500 B/s, 50%, ETA 2s" {
		t.Fatalf("line %q", l)
	}
}
