package squat

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{1200, 5400, 2 * time.Second, "1200/5400 lookups (22%), 600/s, ETA 7s"},
		{5400, 5400, 2 * time.Second, "5400/5400 lookups (100%), 2700/s, done"},
		{0, 10, 0, "0/10 lookups (0%), 0/s"},
	} {
		if got := ProgressLine(c.done, c.total, c.elapsed); got != c.want {
			t.Errorf("ProgressLine(%d, %d, %v) = %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
	var b bytes.Buffer
	p := NewProgress(&b, time.Hour)
	p.SetTotal(3)
	p.Done(3)
	p.Stop()
	if !strings.HasPrefix(b.String(), "\r\x1b[K3/3 lookups (100%), ") || !strings.HasSuffix(b.String(), ", done\n") {
		t.Errorf("progress %q", b.String())
	}
}
