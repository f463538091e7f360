package dnsq

import (
	"strings"
	"testing"
)

func TestHostName(t *testing.T) {
	long := strings.Repeat("a", 63)
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"MX.Farm.Example.", "mx.farm.example", true},
		{"mx.farm.example", "mx.farm.example", true},
		{"_dmarc.x.example.", "_dmarc.x.example", true},
		{".", "", false},
		{"", "", false},
		{`mx\032evil.example.`, `mx\032evil.example`, false},   // a space
		{`mx\010.example.`, `mx\010.example`, false},           // a line feed
		{`a\.b.example.`, `a\046b.example`, false},             // a dot inside a label
		{`caf\195\169.example.`, `caf\195\169.example`, false}, // UTF-8 bytes
		{`mx\"<b>.example.`, `mx\034\060b\062.example`, false},
		{"a..example.", "", false},
		{"..", "", false},
		{`x\999.example`, `x\092999.example`, false}, // an escape out of range keeps its backslash, escaped
		{`x\`, `x\092`, false},
		{long + ".example.", long + ".example", true},
		{long + "a.example.", long + "a.example", false},
	}
	for _, c := range cases {
		got, ok := hostName(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("hostName(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// Over 253 bytes: not ok, cut to 253 without half an escape.
	name := strings.Repeat(long+".", 4) + "example."
	got, ok := hostName(name)
	if ok || len(got) > maxHostLen {
		t.Errorf("hostName(%d bytes) = %d bytes, %v", len(name), len(got), ok)
	}
	got, ok = hostName(strings.Repeat(`\032`, 300))
	if ok || len(got) > maxHostLen || len(got)%4 != 0 {
		t.Errorf("hostName(300 escaped spaces) = %q (%d bytes), %v", got, len(got), ok)
	}
}

// checkHost is what every host name shown in a report or reason must be.
func checkHost(t *testing.T, what, h string) {
	t.Helper()
	if h == "" || len(h) > maxHostLen || strings.HasSuffix(h, ".") {
		t.Fatalf("%s %q: empty, too long or with a final dot", what, h)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c > '~' || ('A' <= c && c <= 'Z') {
			t.Fatalf("%s %q: byte %#x is not lower-case printable ASCII", what, h, c)
		}
	}
}

func FuzzHostName(f *testing.F) {
	for _, s := range []string{"mx.example.", `a\032b.example.`, `\999`, `\`, "a..b", strings.Repeat("ab.", 100), "\x00\xff.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := hostName(s)
		if h == "" {
			if ok {
				t.Fatalf("hostName(%q): empty and ok", s)
			}
			return
		}
		checkHost(t, "host", h)
		if ok {
			// A plain host name reads back as itself.
			if again, ok2 := hostName(h + "."); again != h || !ok2 {
				t.Fatalf("hostName(%q) = %q, %v; again %q, %v", s, h, ok, again, ok2)
			}
			if strings.ContainsRune(h, '\\') {
				t.Fatalf("hostName(%q) = %q: ok with an escape", s, h)
			}
		}
	})
}
