package watch

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/dnsq"
)

func TestLine(t *testing.T) {
	reg := func(mx ...string) Summary {
		return Summary{Status: dnsq.Registered, CanReceive: len(mx) > 0, MX: mx, NS: []string{"ns1.example"}}
	}
	lk := Change{Domain: "bank-army.ml", Of: "army.mil", Watched: Lookalike}
	cases := []struct {
		c    Change
		want string
	}{
		{with(lk, NewlyRegistered, Summary{Status: dnsq.NotRegistered}, reg()),
			"bank-army.ml (lookalike of army.mil): newly registered, name servers ns1.example"},
		{with(lk, NowReceives, reg(), reg("mx.farm.example")),
			"bank-army.ml (lookalike of army.mil): now accepts mail at mx.farm.example"},
		{with(lk, StopsReceiving, reg("mx.farm.example"), reg()),
			"bank-army.ml (lookalike of army.mil): no longer accepts mail (was mx.farm.example)"},
		{with(lk, Gone, reg(), Summary{Status: dnsq.NotRegistered}), "bank-army.ml (lookalike of army.mil): gone (NXDOMAIN)"},
		{with(lk, CameBack, Summary{Status: dnsq.NotRegistered}, reg()), "bank-army.ml (lookalike of army.mil): exists again after being gone"},
		{with(Change{Domain: "fabrikam.com", Watched: Known, Owner: true}, CameBack, Summary{Status: dnsq.NotRegistered}, reg("mx.new.example")),
			"fabrikam.com (known correspondent): exists again after being gone, receives mail at mx.new.example: it may have changed hands"},
		{with(Change{Domain: "x.example", Watched: Lookalike}, NSMoved, reg(), Summary{Status: dnsq.Registered, NS: []string{"a.example", "b.example"}}),
			"x.example (lookalike): name servers moved from ns1.example to a.example, b.example"},
	}
	for _, c := range cases {
		if got := Line(c.c); got != c.want {
			t.Errorf("Line(%s) =\n%q\nwant\n%q", c.c.Kind, got, c.want)
		}
	}
	var b bytes.Buffer
	if err := WriteText(&b, []Change{cases[0].c, cases[1].c}); err != nil {
		t.Fatal(err)
	}
	if b.String() != cases[0].want+"\n"+cases[1].want+"\n" {
		t.Errorf("WriteText:\n%s", b.String())
	}
	b.Reset()
	if WriteText(&b, nil); b.Len() != 0 {
		t.Errorf("no changes wrote %q", b.String())
	}
}

func with(c Change, k ChangeKind, before, after Summary) Change {
	c.Kind, c.Before, c.After = k, before, after
	return c
}

// FuzzLine: whatever DNS or the database gave as names, a change is one clean line.
func FuzzLine(f *testing.F) {
	f.Add("bank-army.ml", "army.mil", "mx.farm.example", "ns\\032x.example", uint8(MXMoved), true)
	f.Add("a\r\nBcc: x@y", "\x00\u202e", "mx\nfarm", "\xff\xfe", uint8(Gone), false)
	f.Fuzz(func(t *testing.T, domain, of, host, ns string, kind uint8, owner bool) {
		c := Change{Domain: domain, Of: of, Watched: Lookalike, Kind: ChangeKind(kind % 9), Owner: owner,
			FarmHosts: []string{host},
			Before:    Summary{Status: dnsq.Registered, CanReceive: true, MX: []string{host, ns}, NS: []string{ns}},
			After:     Summary{Status: dnsq.Registered, MX: []string{ns}, NS: []string{host}}}
		if owner {
			c.Watched = Known
		}
		l := Line(c)
		if !utf8.ValidString(l) {
			t.Fatalf("invalid UTF-8: %q", l)
		}
		for _, r := range l {
			if r != ' ' && (!unicode.IsPrint(r) || unicode.Is(unicode.Cf, r)) {
				t.Fatalf("line %q holds %U", l, r)
			}
		}
		if !strings.HasPrefix(l, clean(domain)+" (") {
			t.Fatalf("line %q does not start with the domain", l)
		}
	})
}

// FuzzStoredRow: a damaged row read back from the database is an error, never a panic.
func FuzzStoredRow(f *testing.F) {
	good := toRow(Seen{Entry: Entry{Domain: "army.ml", Kind: Lookalike, Facts: mail("mx.farm.example")}})
	f.Add(good.kind, good.status, good.mx, good.ns, good.addrs, summaryToJSON(summary(mail("mx.a.example"))))
	f.Add("known", "unknown", `[{"host":1}]`, `{}`, `["300.1.1.1"]`, `{"status":"x"}`)
	f.Fuzz(func(t *testing.T, kind, status, mx, ns, addrs, sum string) {
		r := good
		r.kind, r.status, r.mx, r.ns, r.addrs = kind, status, mx, ns, addrs
		if s, err := fromRow(r); err == nil && toRow(s).kind != kind {
			t.Fatalf("kind %q read as %q", kind, s.Kind)
		}
		_, _ = summaryFromJSON(sum)
	})
}

func TestStoredRowRoundTrip(t *testing.T) {
	s := Seen{Entry: Entry{Domain: "army.ml", Of: "army.mil", Technique: "tld-swap", Kind: Lookalike,
		Facts: keptFacts("army.ml", mail("mx.b.example", "mx.a.example"))}, FirstSeen: t0.Truncate(1000)}
	s.Facts.A = append(s.Facts.A, netipMust("192.0.2.1"))
	s.Facts.AAAA = append(s.Facts.AAAA, netipMust("2001:db8::1"))
	got, err := fromRow(toRow(s))
	if err != nil {
		t.Fatal(err)
	}
	if toRow(got) != toRow(s) || !got.Facts.CanReceive() || len(got.Facts.AAAA) != 1 {
		t.Errorf("round trip:\n%+v\n%+v", got, s)
	}
}
