package engine

import (
	"math"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

// TestNewMergesRepeatedNames: a name given several times, in several classes, is one
// candidate with every class and the sum of the counts.
func TestNewMergesRepeatedNames(t *testing.T) {
	d := domain(t, "fabrikam.com")
	e, err := New(Inputs{
		Protected: []address.Domain{d},
		Known: []KnownDomain{
			{Domain: d, Count: 5}, {Domain: domain(t, "fabrikam.net"), Count: 1},
			{Domain: d, Count: math.MaxInt64},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Size() != 2 || len(e.groups) != 1 || e.groups[0].size != 2 {
		t.Fatalf("%d candidates in %d groups, want 2 in 1", e.Size(), len(e.groups))
	}
	id, ok := e.find("fabrikam.com")
	if !ok {
		t.Fatal("fabrikam.com not found")
	}
	if c := e.cands[id]; c.class != Protect|Known || c.count != math.MaxInt64 {
		t.Errorf("class %b, count %d; want %b, %d", c.class, c.count, Protect|Known, int64(math.MaxInt64))
	}
}

// TestNewRefusesANegativeCount names the first known domain with a negative count.
func TestNewRefusesANegativeCount(t *testing.T) {
	_, err := New(Inputs{
		Own: []address.Domain{domain(t, "contoso.com")},
		Known: []KnownDomain{
			{Domain: domain(t, "fabrikam.com"), Count: 1}, {Domain: domain(t, "adatum.com"), Count: -1},
			{Domain: domain(t, "contoso.com"), Count: -2},
		},
	})
	if err == nil || !strings.Contains(err.Error(), "adatum.com has a negative count") {
		t.Errorf("New: %v, want an error naming adatum.com", err)
	}
}

// TestGroupsKeepTheOrderOfTheInputs: candidates are grouped by label part, the groups in
// the order of their first names and the members of each in the order of the inputs.
func TestGroupsKeepTheOrderOfTheInputs(t *testing.T) {
	var known []KnownDomain
	for _, name := range []string{"b.com", "a.com", "b.net", "c.org", "a.de", "b.fr", "co.uk"} {
		known = append(known, KnownDomain{Domain: domain(t, name), Count: 1})
	}
	e, err := New(Inputs{Protected: []address.Domain{domain(t, "c.de")}, Known: known})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for g, gr := range e.groups {
		var names []string
		for _, c := range e.cands[gr.first : gr.first+gr.size] {
			names = append(names, c.name)
		}
		got = append(got, gr.pre+":"+strings.Join(names, ","))
		if len(e.members(uint32(g))) != int(gr.size) {
			t.Errorf("group %d: members and size disagree", g)
		}
	}
	want := "c:c.de,c.org b:b.com,b.net,b.fr a:a.com,a.de :"
	if strings.Join(got, " ") != want {
		t.Errorf("groups %q, want %q", strings.Join(got, " "), want)
	}
	if e.Size() != 8 || e.cands[7].name != "co.uk" {
		t.Errorf("%d candidates, the last %q; want 8, the bare suffix co.uk last", e.Size(), e.cands[len(e.cands)-1].name)
	}
}
