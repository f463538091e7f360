package squat

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// FuzzReport: whatever host names and error text DNS (or a broken resolver) hands back,
// the report is written in every format without a crash, the text report's lines carry no
// control character, and the block list still loads as a config.
func FuzzReport(f *testing.F) {
	f.Add("mx1.farm.example", "ns1.farm.example", "SERVFAIL", uint16(10))
	f.Add("MX.\x1b[31mred", "ns\n- evil.example", "line\nbreak\x00", uint16(0))
	f.Add("", ".", "\u2028", uint16(65535))
	f.Add("xn--80ak6aa92e.com", "mx.\u0430pple.com", "\xff\xfe", uint16(5))
	f.Fuzz(func(t *testing.T, host, ns, errText string, pref uint16) {
		of := domain(t, "army.mil")
		c := newCollector([]Target{{Domain: of, Why: "argument"}}, 1)
		c.generated(of, 3)
		v := func(name string) engine.Variant {
			return engine.Variant{Domain: domain(t, name), Technique: engine.Substitution}
		}
		c.add(Result{Of: of, Lookalike: v("arny.mil"), Facts: dnsq.Facts{Domain: "arny.mil", Status: dnsq.Registered,
			MX: []dnsq.MX{{Host: host, Pref: pref}}, NS: []string{ns}, A: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}})
		c.add(Result{Of: of, Lookalike: v("army.ml"), Facts: dnsq.Facts{Domain: "army.ml", Status: dnsq.Registered, MX: []dnsq.MX{{Host: host}}}})
		c.add(Result{Of: of, Lookalike: v("amy.mil"), Facts: dnsq.Facts{Domain: "amy.mil", Err: errors.New(errText)}})
		r := c.report()
		var b bytes.Buffer
		if err := WriteText(&b, r); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if i := strings.IndexFunc(l, func(r rune) bool { return unicode.IsControl(r) || r == 0x2028 || r == 0x2029 }); i >= 0 {
				t.Fatalf("control character in text line %q", l)
			}
		}
		for _, w := range []func(*bytes.Buffer, Report) error{
			func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) },
			func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) },
			func(b *bytes.Buffer, r Report) error { return WriteHTML(b, r) },
		} {
			b.Reset()
			if err := w(&b, r); err != nil {
				t.Fatal(err)
			}
		}
		data, err := BlockList(r)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Parse(data, "block.yaml")
		if err != nil {
			t.Fatalf("the block list does not load: %v\n%s", err, data)
		}
		if len(cfg.Block) != 2 {
			t.Fatalf("%d entries blocked, want 2:\n%s", len(cfg.Block), data)
		}
	})
}
