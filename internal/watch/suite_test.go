package watch

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// opener opens the store named name for the test t; opening the same name again in the
// same test opens the same data. exec runs SQL on a store's own database (the test's
// way to make a run fail inside its transaction).
type opener struct {
	open func(t *testing.T, name string) *Store
	// failChanges makes every insert of a change of domain fail in s's database; the
	// returned function lifts it.
	failChanges func(t *testing.T, s *Store, domain string) (lift func())
}

var t0 = time.Date(2026, 12, 1, 6, 0, 0, 123456789, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func nx() dnsq.Facts { return dnsq.Facts{Status: dnsq.NotRegistered} }

func failed() dnsq.Facts {
	return dnsq.Facts{Status: dnsq.Unknown, Err: errors.New("i/o timeout")}
}

// parked is registered with name servers and no way to receive mail.
func parked(ns ...string) dnsq.Facts {
	return dnsq.Facts{Status: dnsq.Registered, NS: ns}
}

// mail is registered with name servers ns1/ns2.parking.example and the MX hosts given.
func mail(mx ...string) dnsq.Facts {
	f := dnsq.Facts{Status: dnsq.Registered, NS: []string{"ns2.parking.example", "ns1.parking.example"}}
	for i, h := range mx {
		f.MX = append(f.MX, dnsq.MX{Host: h, Pref: uint16(10 * (i + 1))})
	}
	return f
}

func look(domain string, f dnsq.Facts) Entry {
	return Entry{Domain: domain, Of: "army.mil", Technique: "tld-swap", Kind: Lookalike, Facts: f}
}

func known(domain string, f dnsq.Facts) Entry { return Entry{Domain: domain, Kind: Known, Facts: f} }

func record(t *testing.T, s *Store, at time.Time, es ...Entry) []Change {
	t.Helper()
	cs, err := s.Record(context.Background(), at, es)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func kinds(cs []Change) string {
	var out []string
	for _, c := range cs {
		s := c.Domain + ":" + c.Kind.String()
		if c.Owner {
			s += "!"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func wantChanges(t *testing.T, run string, cs []Change, want string) {
	t.Helper()
	if got := kinds(cs); got != want {
		t.Errorf("%s: changes %q, want %q", run, got, want)
		for _, c := range cs {
			t.Logf("  %s", Line(c))
		}
	}
}

func seen(t *testing.T, s *Store, domain string) Seen {
	t.Helper()
	v, ok, err := s.Seen(context.Background(), domain)
	if err != nil || !ok {
		t.Fatalf("Seen(%s) = %v, %v", domain, ok, err)
	}
	return v
}

func testStore(t *testing.T, o opener) {
	t.Run("MailOwed", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		ctx := context.Background()
		recordRun := func(at time.Time, owes bool, es ...Entry) Run {
			t.Helper()
			r, _, err := s.RecordRun(ctx, at, es, owes)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		owed := func(run Run) string {
			t.Helper()
			cs, err := s.OwedMail(ctx, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.Domain+":"+c.Kind.String()+"@"+c.At.Format("2"))
			}
			return strings.Join(out, " ")
		}
		r0 := recordRun(day(0), true, look("army.ml", nx()), look("arny.mil", nx()))
		if r0.MailOwed || owed(r0) != "" {
			t.Errorf("the baseline owes a mail: %+v, %q", r0, owed(r0))
		}
		// Day 1: a change, mailed? No: the mail failed (no MailSent). Day 2: another change;
		// its run owes day 1's too. A run without --notify (day 3) owes nothing itself.
		r1 := recordRun(day(1), true, look("army.ml", mail("mx.farm.example")), look("arny.mil", nx()))
		if !r1.MailOwed {
			t.Errorf("day 1 owes no mail: %+v", r1)
		}
		r2 := recordRun(day(2), true, look("army.ml", mail("mx.farm.example")), look("arny.mil", mail("mx.farm.example")))
		d1, d2 := "@"+day(1).Format("2"), "@"+day(2).Format("2")
		if got, want := owed(r2), "army.ml:newly-registered"+d1+" army.ml:now-receives"+d1; got != want {
			t.Errorf("owed at day 2: %q, want %q", got, want)
		}
		r3 := recordRun(day(3), false, look("army.ml", nx()), look("arny.mil", mail("mx.farm.example")))
		if r3.MailOwed {
			t.Errorf("a run without --notify owes a mail: %+v", r3)
		}
		if got, want := owed(r3), "army.ml:newly-registered"+d1+" army.ml:now-receives"+d1+" arny.mil:newly-registered"+d2+" arny.mil:now-receives"+d2; got != want {
			t.Errorf("owed at day 3: %q, want %q", got, want)
		}
		if last, _, _ := s.LastRun(ctx); last.ID != r3.ID || last.MailOwed {
			t.Errorf("LastRun %+v", last)
		}
		// Sent with day 2's run: days 1 and 2 owe nothing more.
		if err := s.MailSent(ctx, r2.ID); err != nil {
			t.Fatal(err)
		}
		if got := owed(r3); got != "" {
			t.Errorf("owed after the mail: %q", got)
		}
		r4 := recordRun(day(4), true, look("army.ml", mail("mx.farm.example")), look("arny.mil", mail("mx.farm.example")))
		if got := owed(r4); got != "" || !r4.MailOwed {
			t.Errorf("day 4: owed %q, run %+v", got, r4)
		}
	})
	t.Run("LookalikeLifecycle", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		const d = "army.ml"
		wantChanges(t, "first run", record(t, s, day(0), look(d, nx())), "")
		cs := record(t, s, day(1), look(d, parked("ns1.parking.example", "ns2.parking.example")))
		wantChanges(t, "registered", cs, "army.ml:newly-registered")
		if len(cs) == 1 && (cs[0].Of != "army.mil" || cs[0].Watched != Lookalike || !cs[0].At.Equal(day(1).Truncate(time.Microsecond))) {
			t.Errorf("change %+v", cs[0])
		}
		cs = record(t, s, day(2), look(d, mail("mx1.parking.example")))
		wantChanges(t, "receives", cs, "army.ml:now-receives")
		if len(cs) == 1 && !slices.Equal(cs[0].After.MX, []string{"mx1.parking.example"}) {
			t.Errorf("after MX %v", cs[0].After.MX)
		}
		// A failed lookup keeps the facts and is no change, nor is the next answer if
		// nothing moved.
		wantChanges(t, "lookup failed", record(t, s, day(3), look(d, failed())), "")
		if v := seen(t, s, d); !v.LastChecked.Equal(day(2).Truncate(time.Microsecond)) || len(v.Facts.MX) != 1 ||
			!v.FirstRegistered.Equal(day(1).Truncate(time.Microsecond)) || !v.FirstSeen.Equal(day(0).Truncate(time.Microsecond)) {
			t.Errorf("after a failed lookup: %+v", v)
		}
		if r, ok, err := s.LastRun(context.Background()); err != nil || !ok || r.Domains != 1 || r.Unknown != 1 || r.Changes != 0 {
			t.Errorf("LastRun = %+v, %v, %v", r, ok, err)
		}
		wantChanges(t, "same again", record(t, s, day(4), look(d, mail("mx1.parking.example"))), "")
		cs = record(t, s, day(5), look(d, mail("mx.farm.example", "mx2.farm.example")))
		wantChanges(t, "mx moved", cs, "army.ml:mx-moved")
		if len(cs) == 1 && Line(cs[0]) != "army.ml (lookalike of army.mil): MX moved from mx1.parking.example to mx.farm.example, mx2.farm.example" {
			t.Errorf("line %q", Line(cs[0]))
		}
		// The order of the MX records is no move.
		f := mail("mx2.farm.example", "mx.farm.example")
		wantChanges(t, "mx reordered", record(t, s, day(6), look(d, f)), "")
		f.NS = []string{"ns1.other.example"}
		wantChanges(t, "ns moved", record(t, s, day(7), look(d, f)), "army.ml:ns-moved")
		cs = record(t, s, day(8), look(d, nx()))
		wantChanges(t, "gone", cs, "army.ml:gone")
		if len(cs) == 1 && Line(cs[0]) != "army.ml (lookalike of army.mil): gone (NXDOMAIN), was receiving mail at mx2.farm.example, mx.farm.example" {
			t.Errorf("line %q", Line(cs[0]))
		}
		wantChanges(t, "came back", record(t, s, day(9), look(d, mail("mx.new.example"))), "army.ml:came-back army.ml:now-receives")
		null := parked("ns1.parking.example", "ns2.parking.example")
		null.NullMX = true
		null.A = []netip.Addr{netip.MustParseAddr("192.0.2.7")}
		cs = record(t, s, day(10), look(d, null))
		wantChanges(t, "null MX", cs, "army.ml:stops-receiving")
		if len(cs) == 1 && (!cs[0].After.NullMX || Line(cs[0]) != "army.ml (lookalike of army.mil): no longer accepts mail: null MX (was mx.new.example)") {
			t.Errorf("change %+v: %q", cs[0], Line(cs[0]))
		}
		// Seen returns the stored facts, addresses included, for the name in any form.
		v, ok, err := s.Seen(context.Background(), "ARMY.ML.")
		if err != nil || !ok || v.Facts.Status != dnsq.Registered || !v.Facts.NullMX || len(v.Facts.A) != 1 || v.Facts.CanReceive() || v.Of != "army.mil" || v.Technique != "tld-swap" {
			t.Errorf("Seen = %+v, %v, %v", v, ok, err)
		}
	})
	t.Run("FirstAnswerIsTheBaseline", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		wantChanges(t, "failed first", record(t, s, day(0), look("army.ml", failed()), look("arny.mil", mail("mx.x.example"))), "")
		if v := seen(t, s, "army.ml"); v.Facts.Status != dnsq.Unknown || !v.LastChecked.IsZero() || !v.FirstSeen.Equal(day(0).Truncate(time.Microsecond)) {
			t.Errorf("never answered: %+v", v)
		}
		// The first answer, registered and receiving, reports nothing: it was so before
		// the watch began.
		wantChanges(t, "first answer", record(t, s, day(1), look("army.ml", mail("mx.farm.example"))), "")
		if v := seen(t, s, "army.ml"); !v.FirstRegistered.Equal(day(1).Truncate(time.Microsecond)) {
			t.Errorf("first registered %v", v.FirstRegistered)
		}
		// A domain absent from a run keeps its row.
		wantChanges(t, "other", record(t, s, day(2), look("army.ml", nx())), "army.ml:gone")
		if v := seen(t, s, "arny.mil"); !v.Facts.CanReceive() {
			t.Errorf("arny.mil lost its facts: %+v", v)
		}
	})
	t.Run("KnownCorrespondentChangingHands", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		ctx := context.Background()
		farm := []Entry{
			look("army.ml", mail("mx.farm.example")), look("arrny.mil", mail("mx.farm.example", "mx2.farm.example")),
			look("armv.mil", mail("mx.farm.example")), look("army-mil.com", mail("mx.single.example")),
		}
		base := append(slices.Clone(farm), known("fabrikam.com", mail("mx.fabrikam.com")),
			known("contoso.com", mail("mx.contoso.com")), known("wingtip.com", mail("mx.wingtip.com")))
		wantChanges(t, "baseline", record(t, s, day(0), base...), "")
		run := append(slices.Clone(farm),
			known("fabrikam.com", mail("mx.farm.example")),   // to a farm host: changed hands?
			known("contoso.com", mail("mx.outlook.example")), // an ordinary move: not reported
			known("wingtip.com", mail("mx.single.example")),  // serves one lookalike: OwnerMin is 1
		)
		cs := record(t, s, day(1), run...)
		wantChanges(t, "moves", cs, "fabrikam.com:mx-moved! wingtip.com:mx-moved!")
		if len(cs) > 0 && (!slices.Equal(cs[0].FarmHosts, []string{"mx.farm.example"}) ||
			Line(cs[0]) != "fabrikam.com (known correspondent): MX moved from mx.fabrikam.com to mx.farm.example, "+
				"which also serves lookalikes (mx.farm.example): it may have changed hands") {
			t.Errorf("change %+v: %q", cs[0], Line(cs[0]))
		}
		c, ok, err := s.ChangedOwner(ctx, "Fabrikam.COM")
		if err != nil || !ok || c.Kind != MXMoved || !c.Owner || !c.At.Equal(day(1).Truncate(time.Microsecond)) ||
			!slices.Equal(c.Before.MX, []string{"mx.fabrikam.com"}) || !slices.Equal(c.After.MX, []string{"mx.farm.example"}) {
			t.Errorf("ChangedOwner(fabrikam.com) = %+v, %v, %v", c, ok, err)
		}
		for _, d := range []string{"contoso.com", "army.ml", "nowhere.example"} {
			if c, ok, err := s.ChangedOwner(ctx, d); ok || err != nil {
				t.Errorf("ChangedOwner(%s) = %+v, %v, %v", d, c, ok, err)
			}
		}
		// A failed lookup leaves it standing; a move elsewhere ends it.
		record(t, s, day(2), known("fabrikam.com", failed()))
		if _, ok, _ := s.ChangedOwner(ctx, "fabrikam.com"); !ok {
			t.Error("a failed lookup ended the change of hands")
		}
		wantChanges(t, "moved on", record(t, s, day(3), known("fabrikam.com", mail("mx.fabrikam-new.com"))), "")
		if c, ok, _ := s.ChangedOwner(ctx, "fabrikam.com"); ok {
			t.Errorf("ChangedOwner after a move elsewhere = %+v", c)
		}
		// Gone, then back: reported, and it is a change of hands.
		wantChanges(t, "gone", record(t, s, day(4), known("contoso.com", nx())), "contoso.com:gone")
		if _, ok, _ := s.ChangedOwner(ctx, "contoso.com"); ok {
			t.Error("gone is no change of hands yet")
		}
		cs = record(t, s, day(5), known("contoso.com", mail("mx.contoso.com")))
		wantChanges(t, "back", cs, "contoso.com:came-back!")
		if c, ok, _ := s.ChangedOwner(ctx, "contoso.com"); !ok || c.Kind != CameBack {
			t.Errorf("ChangedOwner(contoso.com) after it came back = %+v, %v", c, ok)
		}
		st2, err := s.Standing(ctx, 2)
		if err != nil || fmt.Sprint(st2.Farms) != "[{mx.farm.example 3}]" {
			t.Errorf("Standing(2).Farms = %v, %v", st2.Farms, err)
		}
		if st0, _ := s.Standing(ctx, 0); len(st0.Farms) != 3 {
			t.Errorf("Standing(0).Farms = %v, want three hosts", st0.Farms)
		}
		// What the guard is given: the lookalikes that receive mail, the farms, and the
		// changes of hands that stand (contoso.com came back, wingtip.com went to a host that
		// serves a lookalike; fabrikam.com moved on).
		st, err := s.Standing(ctx, 2)
		var receiving, owners []string
		for _, r := range st.Receiving {
			receiving = append(receiving, r.Domain)
		}
		for _, c := range st.ChangedHands {
			owners = append(owners, c.Domain+":"+c.Kind.String())
		}
		if err != nil || fmt.Sprint(receiving) != "[armv.mil army-mil.com army.ml arrny.mil]" ||
			fmt.Sprint(st.Farms) != "[{mx.farm.example 3}]" || fmt.Sprint(owners) != "[contoso.com:came-back wingtip.com:mx-moved]" {
			t.Errorf("Standing(2) = receiving %v, farms %v, changed hands %v, %v", receiving, st.Farms, owners, err)
		}
	})
	t.Run("KnownFirstSeenMissingThenRegistered", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		// It was mailed, so it existed once: registered again is a comeback, not news.
		record(t, s, day(0), known("lapsed.example", nx()))
		cs := record(t, s, day(1), known("lapsed.example", mail("mx.new-owner.example")))
		wantChanges(t, "registered", cs, "lapsed.example:came-back!")
		if c, ok, err := s.ChangedOwner(context.Background(), "lapsed.example"); err != nil || !ok ||
			!slices.Equal(c.After.MX, []string{"mx.new-owner.example"}) {
			t.Errorf("ChangedOwner = %+v, %v, %v", c, ok, err)
		}
	})
	t.Run("OwnerMinCountsLookalikes", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		s.OwnerMin = 2
		record(t, s, day(0), look("army.ml", mail("mx.one.example")), known("fabrikam.com", mail("mx.fabrikam.com")))
		wantChanges(t, "to a host of one lookalike", record(t, s, day(1), known("fabrikam.com", mail("mx.one.example"))), "")
	})
	t.Run("SharedMailHostsAreNoFarmNorChangeOfHands", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		ctx := context.Background()
		// Three lookalikes use Google Workspace, three Microsoft 365 (one host each, as
		// Microsoft gives them), three a parking operator, three a host the
		// administrators named in dns.shared_mail_hosts.
		s.Shared = providers.NewShared([]string{"mail.hoster.example"})
		var base []Entry
		for i, d := range []string{"army.ml", "arny.mil", "armv.mil"} {
			base = append(base, look(d, mail("aspmx.l.google.com", "alt1.aspmx.l.google.com")),
				look("o"+d, mail(fmt.Sprintf("t%d.mail.protection.outlook.com", i))),
				look("p"+d, mail("mx.parking.example")), look("h"+d, mail("mx1.mail.hoster.example")))
		}
		base = append(base, known("fabrikam.com", mail("mx.fabrikam.com")), known("contoso.com", mail("mx.contoso.com")),
			known("wingtip.com", mail("mx.wingtip.com")), known("tailspin.com", mail("mx.tailspin.com")))
		wantChanges(t, "baseline", record(t, s, day(0), base...), "")
		// Three move to shared hosts that serve lookalikes (ordinary migrations); one to the
		// parking operator (it may have changed hands).
		cs := record(t, s, day(1), known("fabrikam.com", mail("aspmx.l.google.com")),
			known("contoso.com", mail("contoso-com.mail.protection.outlook.com", "t0.mail.protection.outlook.com")),
			known("wingtip.com", mail("mx1.mail.hoster.example")), known("tailspin.com", mail("mx.parking.example")))
		wantChanges(t, "moves", cs, "tailspin.com:mx-moved!")
		st, err := s.Standing(ctx, 3)
		var owners []string
		for _, c := range st.ChangedHands {
			owners = append(owners, c.Domain)
		}
		if err != nil || fmt.Sprint(st.Farms) != "[{mx.parking.example 3}]" || fmt.Sprint(owners) != "[tailspin.com]" {
			t.Errorf("Standing(3) = farms %v, changed hands %v, %v", st.Farms, owners, err)
		}
		// A change of hands recorded while a host was not known as shared no longer
		// stands once it is: here the parking operator, named later by the administrators.
		s.Shared = providers.NewShared([]string{"mail.hoster.example", "parking.example"})
		if c, ok, err := s.ChangedOwner(ctx, "tailspin.com"); ok || err != nil {
			t.Errorf("ChangedOwner(tailspin.com) with its host shared = %+v, %v, %v", c, ok, err)
		}
		if st, err := s.Standing(ctx, 3); err != nil || len(st.Farms) != 0 || len(st.ChangedHands) != 0 {
			t.Errorf("Standing(3) with the parking operator shared = farms %v, changed hands %v, %v", st.Farms, st.ChangedHands, err)
		}
	})
	t.Run("PruneKeepsWhatStillCounts", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		ctx := context.Background()
		if _, err := s.Prune(ctx, time.Time{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Prune(zero time) = %v, want ErrInvalid", err)
		}
		farm := []Entry{look("army.ml", mail("mx.farm.example")), look("arny.mil", mail("mx.farm.example"))}
		watched := func(fabrikam, armv dnsq.Facts) []Entry {
			return append(slices.Clone(farm), known("fabrikam.com", fabrikam), look("armv.mil", armv))
		}
		// Run 1: the baseline, with a lookalike watched only then.
		record(t, s, day(0), append(watched(mail("mx.fabrikam.com"), nx()), look("old.example", nx()))...)
		// Run 2: fabrikam.com moves to the farm (a change of hands that stands).
		wantChanges(t, "2", record(t, s, day(1), watched(mail("mx.farm.example"), nx())...), "fabrikam.com:mx-moved!")
		// Run 3: armv.mil is registered (an ordinary change).
		wantChanges(t, "3", record(t, s, day(2), watched(mail("mx.farm.example"), mail("mx.armv.example"))...),
			"armv.mil:newly-registered armv.mil:now-receives")
		// Run 4: armv.mil gone, recorded by --notify whose mail failed: it owes its mail.
		if _, cs, err := s.RecordRun(ctx, day(3), watched(mail("mx.farm.example"), nx()), true); err != nil || len(cs) != 1 {
			t.Fatalf("run 4: %v, %v", cs, err)
		}
		// Run 5, the last.
		last, _, err := s.RecordRun(ctx, day(4), watched(mail("mx.farm.example"), nx()), false)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Prune(ctx, day(4))
		if err != nil || p != (Pruned{Runs: 2, Changes: 2, Domains: 1}) {
			t.Errorf("Prune = %+v, %v; want runs 1 and 3, run 3's two changes, old.example", p, err)
		}
		if _, ok, _ := s.Seen(ctx, "old.example"); ok {
			t.Error("old.example is still watched")
		}
		if c, ok, err := s.ChangedOwner(ctx, "fabrikam.com"); !ok || err != nil || !c.At.Equal(day(1).Truncate(time.Microsecond)) {
			t.Errorf("ChangedOwner(fabrikam.com) after pruning = %+v, %v, %v", c, ok, err)
		}
		if cs, err := s.OwedMail(ctx, last.ID+1); err != nil || len(cs) != 1 || cs[0].Domain != "armv.mil" || cs[0].Kind != Gone {
			t.Errorf("OwedMail after pruning = %+v, %v", cs, err)
		}
		if r, ok, err := s.LastRun(ctx); !ok || err != nil || r.ID != last.ID {
			t.Errorf("LastRun after pruning = %+v, %v, %v; want run %d", r, ok, err, last.ID)
		}
		if p, err := s.Prune(ctx, day(4)); err != nil || p != (Pruned{}) {
			t.Errorf("Prune again = %+v, %v; want nothing", p, err)
		}
		// Once fabrikam.com is no longer watched, its change of hands goes with it; once
		// the mail is sent, run 4 goes; the last run stays, however old.
		if err := s.MailSent(ctx, last.ID); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Prune(ctx, day(400)); err != nil || p != (Pruned{Runs: 2, Changes: 2, Domains: 4}) {
			t.Errorf("Prune(day 400) = %+v, %v; want runs 2 and 4, their changes, every domain", p, err)
		}
		if r, ok, err := s.LastRun(ctx); !ok || err != nil || r.ID != last.ID {
			t.Errorf("LastRun after pruning everything = %+v, %v, %v", r, ok, err)
		}
		if _, ok, _ := s.ChangedOwner(ctx, "fabrikam.com"); ok {
			t.Error("a change of hands of a domain no longer watched stands")
		}
	})
	t.Run("DomainNamedTwiceIsWatchedOnce", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		record(t, s, day(0), look("fabrikam.co", failed()), known("FABRIKAM.CO", mail("mx.fabrikam.co")),
			look("fabrikam.co", nx()))
		if v := seen(t, s, "fabrikam.co"); v.Kind != Known || v.Of != "" || !v.Facts.CanReceive() {
			t.Errorf("seen %+v", v)
		}
	})
	t.Run("InvalidEntriesRecordNothing", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		for _, es := range [][]Entry{
			{look("army.ml", nx()), look("not a domain", nx())},
			{look("army.ml", nx()), {Domain: "arny.mil", Facts: nx()}},
			{look("army.ml", nx()), {Domain: "arny.mil", Kind: Lookalike, Of: "bad..of", Facts: nx()}},
		} {
			if _, err := s.Record(context.Background(), day(0), es); !errors.Is(err, ErrInvalid) {
				t.Errorf("Record(%v) = %v, want ErrInvalid", es, err)
			}
		}
		if _, err := s.Record(context.Background(), time.Time{}, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Record without a time = %v", err)
		}
		if _, ok, err := s.Seen(context.Background(), "army.ml"); ok || err != nil {
			t.Errorf("an invalid run left army.ml: %v, %v", ok, err)
		}
		if _, ok, err := s.LastRun(context.Background()); ok || err != nil {
			t.Errorf("an invalid run was counted: %v, %v", ok, err)
		}
	})
	t.Run("RecordIsAtomic", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		ctx := context.Background()
		record(t, s, day(0), look("army.ml", nx()), look("zzz-army.ml", nx()))
		first, _, _ := s.LastRun(ctx)
		lift := o.failChanges(t, s, "zzz-army.ml")
		// The domains' rows and the run are written, then the second change fails.
		run := []Entry{look("army.ml", mail("mx.farm.example")), look("zzz-army.ml", mail("mx.farm.example"))}
		if cs, err := s.Record(ctx, day(1), run); err == nil || !strings.Contains(err.Error(), "refused by the test") {
			t.Fatalf("Record = %v, %v; want the database's refusal", cs, err)
		}
		if v := seen(t, s, "army.ml"); v.Facts.Status != dnsq.NotRegistered {
			t.Errorf("a failed run changed army.ml: %+v", v)
		}
		if last, _, _ := s.LastRun(ctx); last != first {
			t.Errorf("a failed run was recorded: %+v, want %+v", last, first)
		}
		if st, _ := s.Standing(ctx, 1); len(st.Farms) != 0 {
			t.Errorf("farms after a failed run: %v", st.Farms)
		}
		lift()
		wantChanges(t, "again", record(t, s, day(1), run...),
			"army.ml:newly-registered army.ml:now-receives zzz-army.ml:newly-registered zzz-army.ml:now-receives")
	})
	t.Run("ReopenKeepsState", func(t *testing.T) {
		t.Parallel()
		s := o.open(t, "db")
		record(t, s, day(0), look("army.ml", mail("mx.a.example")), known("fabrikam.com", mail("mx.fabrikam.com")))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = o.open(t, "db")
		if v := seen(t, s, "army.ml"); !slices.Equal(v.Facts.MailHosts(), []string{"mx.a.example"}) {
			t.Errorf("after reopening: %+v", v)
		}
		wantChanges(t, "after reopening", record(t, s, day(1), look("army.ml", mail("mx.a.example", "mx.b.example")),
			known("fabrikam.com", mail("mx.a.example"))), "army.ml:mx-moved fabrikam.com:mx-moved!")
		s.Close()
		s = o.open(t, "db")
		if _, ok, err := s.ChangedOwner(context.Background(), "fabrikam.com"); !ok || err != nil {
			t.Errorf("ChangedOwner after reopening = %v, %v", ok, err)
		}
		if r, ok, _ := s.LastRun(context.Background()); !ok || r.Changes != 2 || !r.At.Equal(day(1).Truncate(time.Microsecond)) {
			t.Errorf("LastRun after reopening = %+v", r)
		}
	})
	t.Run("ConcurrentRunsAreSerialised", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		stores := []*Store{o.open(t, "db"), o.open(t, "db")} // two handles on the same data
		record(t, stores[0], day(0), look("army.ml", mail("mx-base.example")))
		first, _, _ := stores[0].LastRun(ctx)
		const runs = 12
		var mu sync.Mutex
		var all []Change
		var wg sync.WaitGroup
		for i := range runs {
			wg.Go(func() {
				cs, err := stores[i%2].Record(ctx, day(1+i), []Entry{look("army.ml", mail(fmt.Sprintf("mx-%d.example", i)))})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, cs...)
				mu.Unlock()
			})
		}
		wg.Wait()
		// One after the other, each run saw the one before: the moves form one chain,
		// every host left once and reached once.
		if len(all) != runs {
			t.Fatalf("%d changes, want %d: %s", len(all), runs, kinds(all))
		}
		from, to := map[string]int{}, map[string]int{}
		for _, c := range all {
			if c.Kind != MXMoved {
				t.Errorf("change %s", Line(c))
			}
			from[c.Before.MX[0]]++
			to[c.After.MX[0]]++
		}
		for h, n := range from {
			if n != 1 || (to[h] != 1 && h != "mx-base.example") {
				t.Errorf("host %s left %d times, reached %d times: two runs read the same facts", h, n, to[h])
			}
		}
		if len(to) != runs || from["mx-base.example"] != 1 {
			t.Errorf("hosts reached %v", to)
		}
		if last, _, _ := stores[1].LastRun(ctx); last.ID-first.ID != runs {
			t.Errorf("runs %d to %d, want %d more", first.ID, last.ID, runs)
		}
	})
}
