package watch

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestWatchWithARealResolver: two runs of the watch against a real DNS server on loopback
// (testenv.StartDNS) asked by the real resolver (dnsq), the zone changing between them as
// squat --watch would see it: a lookalike gets an MX on the farm, another is registered, a
// third is gone, a known correspondent's MX moves to the farm, and a lookup that times out
// changes nothing.
func TestWatchWithARealResolver(t *testing.T) {
	const before = `
army.ml.        300 IN NS ns1.parking.example.
army.ml.        300 IN A  192.0.2.10
arrny.mil.      300 IN NS ns1.parking.example.
arrny.mil.      300 IN MX 10 mx.farm.example.
armv.mil.       300 IN NS ns1.parking.example.
armv.mil.       300 IN MX 10 mx.farm.example.
armyy.mil.      300 IN NS ns1.parking.example.
armyy.mil.      300 IN MX 10 mx.farm.example.
fabrikam.com.   300 IN NS ns1.fabrikam.com.
fabrikam.com.   300 IN MX 10 mx.fabrikam.com.
contoso.com.    300 IN NS ns1.contoso.com.
contoso.com.    300 IN MX 10 mx.contoso.com.
`
	const after = `
army.ml.        300 IN NS ns1.parking.example.
army.ml.        300 IN MX 10 mx.farm.example.
arrny.mil.      300 IN NS ns1.parking.example.
arrny.mil.      300 IN MX 10 mx.farm.example.
armv.mil.       300 IN NS ns1.parking.example.
armv.mil.       300 IN MX 10 mx.farm.example.
bank-army.ml.   300 IN NS ns1.parking.example.
bank-army.ml.   300 IN MX 0 .
fabrikam.com.   300 IN NS ns1.fabrikam.com.
fabrikam.com.   300 IN MX 10 mx.farm.example.
contoso.com.    300 IN NS ns1.contoso.com.
contoso.com.    300 IN MX 10 mx.contoso.com.
`
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: before})
	r, err := dnsq.New(dnsq.Config{Servers: []string{srv.Addr()}, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	run := func(at time.Time) []Change {
		t.Helper()
		var es []Entry
		for _, d := range []string{"army.ml", "arrny.mil", "armv.mil", "armyy.mil", "bank-army.ml"} {
			es = append(es, look(d, r.Lookup(ctx, d)))
		}
		for _, d := range []string{"fabrikam.com", "contoso.com"} {
			es = append(es, known(d, r.Lookup(ctx, d)))
		}
		return record(t, s, at, es...)
	}
	wantChanges(t, "first run", run(day(0)), "")
	if err := srv.SetZone(after); err != nil {
		t.Fatal(err)
	}
	cs := run(day(1))
	wantChanges(t, "second run", cs, "army.ml:mx-moved armyy.mil:gone bank-army.ml:newly-registered fabrikam.com:mx-moved!")
	var lines []string
	for _, c := range cs {
		lines = append(lines, Line(c))
	}
	for _, want := range []string{
		"army.ml (lookalike of army.mil): MX moved from army.ml to mx.farm.example",
		"fabrikam.com (known correspondent): MX moved from mx.fabrikam.com to mx.farm.example, which also serves lookalikes (mx.farm.example): it may have changed hands",
	} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("no line %q in\n%s", want, strings.Join(lines, "\n"))
		}
	}
	if _, ok, err := s.ChangedOwner(ctx, "fabrikam.com"); !ok || err != nil {
		t.Errorf("ChangedOwner(fabrikam.com) = %v, %v", ok, err)
	}
	if v, ok, _ := s.Seen(ctx, "bank-army.ml"); !ok || v.Facts.Status != dnsq.Registered || !v.Facts.NullMX || v.Facts.CanReceive() {
		t.Errorf("Seen(bank-army.ml) = %+v, %v", v, ok)
	}

	// The resolver stops answering for a domain: its facts stay, nothing changes.
	slow := testenv.StartDNS(t, testenv.DNSOptions{Zone: "", Drop: []string{"fabrikam.com"}})
	r, err = dnsq.New(dnsq.Config{Servers: []string{slow.Addr()}, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Lookup(ctx, "fabrikam.com")
	if f.Status != dnsq.Unknown {
		t.Fatalf("a dropped question gave %v", f.Status)
	}
	wantChanges(t, "timeout", record(t, s, day(2), known("fabrikam.com", f)), "")
	if _, ok, _ := s.ChangedOwner(ctx, "fabrikam.com"); !ok {
		t.Error("a timeout ended the change of hands")
	}
}
