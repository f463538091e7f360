package scan

import (
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/setup"
)

// testGuard is the guard of the default configuration (the major providers protected)
// with corp.example as the own domain, built as `rcptguard check` builds it.
func testGuard(t testing.TB) *guard.Guard {
	t.Helper()
	cfg := config.Default()
	es, err := config.ParseList("corp.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg.OwnDomains = es
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := setup.Guard(cfg, setup.Extra{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var day0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func at(days, hours int) time.Time { return day0.AddDate(0, 0, days).Add(time.Duration(hours) * time.Hour) }

func TestTallyCountsFlaggedMail(t *testing.T) {
	g := testGuard(t)
	if d := g.Check("x@gmai.com"); !d.Verdict.Suspect() {
		t.Fatalf("the test needs gmai.com flagged by the default policy; got %v", d.Verdict)
	}
	ta := NewTally(g, time.Time{}, time.Time{})
	ta.Add(
		// One message, two lookalike recipients and one legitimate: one flagged message.
		Record{Time: at(0, 0), Sender: "Alice@corp.example", Recipient: "bob@gmai.com", Outcome: Sent, Message: "Q1", Source: "a"},
		Record{Time: at(0, 0), Sender: "alice@corp.example", Recipient: "carol@GMAI.com", Outcome: Bounced, Message: "Q1", Source: "a"},
		Record{Time: at(0, 0), Sender: "alice@corp.example", Recipient: "dan@example.org", Outcome: Sent, Message: "Q1", Source: "a"},
		// The same queue ID in another source is another message.
		Record{Time: at(1, 0), Sender: "bob@corp.example", Recipient: "bob@gmai.com", Outcome: Deferred, Message: "Q1", Source: "b"},
		// No Message: each record is one.
		Record{Time: at(8, 0), Sender: "bob@corp.example", Recipient: "x@gmial.com", Outcome: Expired, Source: "b", Line: 7},
		Record{Time: at(8, 0), Sender: "", Recipient: "y@gmial.com", Source: "b", Line: 8},
		// Not flagged, or not checkable.
		Record{Time: at(3, 0), Sender: "bob@corp.example", Recipient: "root", Source: "b", Line: 9},
		Record{Time: at(3, 0), Sender: "bob@corp.example", Recipient: "eve@bad..domain", Source: "b", Line: 10},
		Record{Time: at(3, 0), Sender: "bob@corp.example", Recipient: "eve@corp.example", Source: "b", Line: 11},
	)
	r := Build(ta, nil, Options{})
	tt := r.Totals
	if tt.Records != 9 || tt.Messages != 7 || tt.FlaggedRecords != 5 || tt.FlaggedMessages != 4 || tt.FlaggedDomains != 2 ||
		tt.NoDomain != 1 || tt.InvalidDomain != 1 || tt.LeftOrg != 1 {
		t.Fatalf("totals %+v", tt)
	}
	if r.Period.Days != 9 || !r.Period.First.Equal(at(0, 0)) || !r.Period.Last.Equal(at(8, 0)) {
		t.Errorf("period %+v", r.Period)
	}
	gmai := r.Domains[0]
	if gmai.Domain != "gmai.com" || gmai.Messages != 2 || gmai.Records != 3 || gmai.Senders != 2 ||
		gmai.Outcomes != (Outcomes{Sent: 1, Bounced: 1, Deferred: 1}) || len(gmai.Intended) == 0 || gmai.Intended[0] != "gmail.com" ||
		gmai.Verdict != "hold" || gmai.Reason == "" || len(gmai.Techniques) == 0 || gmai.Situation != "provider" {
		t.Errorf("gmai.com row %+v", gmai)
	}
	if !gmai.FirstSeen.Equal(at(0, 0)) || !gmai.LastSeen.Equal(at(1, 0)) {
		t.Errorf("gmai.com seen %v to %v", gmai.FirstSeen, gmai.LastSeen)
	}
	if gmai.TopSenders[0].Sender != "alice@corp.example" || gmai.TopSenders[0].Messages != 1 {
		t.Errorf("top senders %+v", gmai.TopSenders)
	}
	gmial := r.Domains[1]
	if gmial.Domain != "gmial.com" || gmial.Messages != 2 || gmial.Outcomes != (Outcomes{Expired: 1, Unknown: 1}) {
		t.Errorf("gmial.com row %+v", gmial)
	}
	if len(r.Senders) != 3 || r.Senders[0] != (SenderRow{"bob@corp.example", 2, 2}) {
		t.Errorf("senders %+v", r.Senders)
	}
	wantDays := []DayCount{{"2026-01-05", 1}, {"2026-01-06", 1}, {"2026-01-13", 2}}
	if len(r.PerDay) != 3 || r.PerDay[0] != wantDays[0] || r.PerDay[1] != wantDays[1] || r.PerDay[2] != wantDays[2] {
		t.Errorf("per day %+v", r.PerDay)
	}
	if len(r.PerWeek) != 2 || r.PerWeek[0] != (DayCount{"2026-W02", 2}) || r.PerWeek[1] != (DayCount{"2026-W03", 2}) {
		t.Errorf("per week %+v", r.PerWeek)
	}
	p := r.Prediction
	if p.Total != (VerdictCounts{Hold: 4}) || p.PerDay.Hold != 0.444 || p.Per1000.Hold != 571.429 {
		t.Errorf("prediction %+v", p)
	}
	if len(p.BySituation) != 1 || p.BySituation[0].Name != "provider" || p.BySituation[0].Total.Hold != 4 {
		t.Errorf("by situation %+v", p.BySituation)
	}
	if len(p.ByTechnique) == 0 || len(p.Drivers) != 2 {
		t.Errorf("by technique %+v, drivers %+v", p.ByTechnique, p.Drivers)
	}
}

// The guard is asked once per distinct domain, whatever the case it was written in.
func TestTallyDecidesEachDomainOnce(t *testing.T) {
	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	for i := range 1000 {
		ta.Add(Record{Recipient: []string{"a@gmai.com", "b@GMAI.COM", "c@gmai.com.", "d@example.org"}[i%4], Source: "s", Line: int64(i)})
	}
	if len(ta.cache) != 2 {
		t.Fatalf("%d domains decided, want 2: %v", len(ta.cache), ta.cache)
	}
	if r := Build(ta, nil, Options{}); r.Domains[0].Records != 750 {
		t.Fatalf("gmai.com has %d records, want 750", r.Domains[0].Records)
	}
}

func TestTallyPeriod(t *testing.T) {
	ta := NewTally(testGuard(t), at(1, 0), at(2, 0))
	ta.Add(
		Record{Time: at(0, 23), Recipient: "a@gmai.com", Source: "s", Line: 1},
		Record{Time: at(1, 0), Recipient: "a@gmai.com", Source: "s", Line: 2},
		Record{Time: at(1, 23), Recipient: "a@gmai.com", Source: "s", Line: 3},
		Record{Time: at(2, 0), Recipient: "a@gmai.com", Source: "s", Line: 4},
		Record{Recipient: "a@gmai.com", Source: "s", Line: 5},
	)
	r := Build(ta, nil, Options{})
	if r.Totals.Records != 2 || r.Totals.OutsidePeriod != 2 || r.Totals.Undated != 1 || r.Domains[0].Messages != 2 {
		t.Fatalf("totals %+v", r.Totals)
	}
}

// A domain many senders wrote to for months, that mostly delivered and is no lookalike
// of a protected domain, is marked probably legitimate, with the line that allows it.
func TestProbablyLegitimate(t *testing.T) {
	ta := NewTally(testGuard(t), time.Time{}, time.Time{})
	for i := range 12 {
		ta.Add(Record{Time: at(i*10, 0), Sender: string(rune('a'+i)) + "@corp.example", Recipient: "x@gmial.com", Outcome: Sent, Source: "s", Line: int64(i)})
		ta.Add(Record{Time: at(i, 0), Sender: string(rune('a'+i)) + "@corp.example", Recipient: "x@gmai.com", Outcome: Sent, Source: "s", Line: int64(100 + i)})
	}
	r := Build(ta, nil, Options{})
	for _, d := range r.Domains {
		switch d.Domain {
		case "gmial.com":
			if !d.ProbablyLegitimate || d.AllowLine != "allow: [gmial.com]" {
				t.Errorf("%s: %+v", d.Domain, d)
			}
		case "gmai.com": // 12 senders, but 11 days only
			if d.ProbablyLegitimate {
				t.Errorf("%s: %+v", d.Domain, d)
			}
		}
	}
}

func TestRedactor(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a, b := NewRedactor(key), NewRedactor(key)
	x := a("alice.smith@corp.example")
	if x != b("alice.smith@corp.example") || x == a("bob@corp.example") {
		t.Fatal("the redactor is not keyed and stable")
	}
	if len(x) != len("h-")+12+len("@corp.example") || x[len(x)-len("@corp.example"):] != "@corp.example" || x[:2] != "h-" {
		t.Fatalf("redacted %q", x)
	}
	if NewRedactor(nil)("alice@corp.example") == NewRedactor(nil)("alice@corp.example") {
		t.Fatal("two random keys gave the same name")
	}
}

func BenchmarkTally(b *testing.B) {
	g := testGuard(b)
	const domains = 3000
	recs := make([]Record, 1_000_000)
	names := make([]string, domains)
	for i := range names {
		switch i % 50 {
		case 0:
			names[i] = "gmai" + itoa(int64(i)) + ".com" // mostly unflagged, a few lookalikes below
		case 1:
			names[i] = []string{"gmai.com", "gmial.com", "outlok.com", "yahooo.com"}[i/50%4]
		default:
			names[i] = "partner" + itoa(int64(i)) + ".example"
		}
	}
	for i := range recs {
		recs[i] = Record{Time: day0.Add(time.Duration(i) * time.Second), Sender: "user" + itoa(int64(i%500)) + "@corp.example",
			Recipient: "x@" + names[(i*7919)%domains], Message: itoa(int64(i / 3)), Source: "bench", Outcome: Sent}
	}
	b.ResetTimer()
	for range b.N {
		ta := NewTally(g, time.Time{}, time.Time{})
		for i := 0; i < len(recs); i += 512 {
			ta.Add(recs[i:min(i+512, len(recs))]...)
		}
		Build(ta, nil, Options{})
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
