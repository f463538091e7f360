package policyd

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// dec is a decision about rcpt: hold or allow.
func dec(rcpt string, hold bool) guard.Decision {
	d := guard.Decision{Input: rcpt}
	if hold {
		d.Verdict = guard.Hold
	}
	return d
}

// inputs lists the recipients x keeps.
func inputs(x *txn) []string {
	var out []string
	for _, d := range x.rcpts {
		out = append(out, d.Input)
	}
	return out
}

func TestTxnTableForgetsTheLeastRecentlyUsed(t *testing.T) {
	tt := newTxnTable(3, 10, 100)
	for i := range 3 {
		tt.add(fmt.Sprint(i), "s", dec("r@x.com", false))
	}
	tt.add("0", "s", dec("r2@x.com", false)) // 0 is now the most recently used
	if res := tt.add("3", "s", dec("r@x.com", false)); res.evicted != 1 {
		t.Fatalf("evicted %d, want 1", res.evicted)
	}
	if tt.take("1") != nil {
		t.Fatal("1 kept; it was the least recently used")
	}
	for _, k := range []string{"0", "2", "3"} {
		if tt.take(k) == nil {
			t.Fatalf("%s forgotten", k)
		}
	}
	if n, r := tt.len(); n != 0 || r != 0 {
		t.Fatalf("left %d transactions, %d recipients", n, r)
	}
}

func TestTxnTableBoundsTheRecipientsHeld(t *testing.T) {
	tt := newTxnTable(100, 10, 5)
	for i := range 3 {
		tt.add("a", "s", dec(fmt.Sprintf("r%d@x.com", i), false))
	}
	for i := range 3 {
		tt.add("b", "s", dec(fmt.Sprintf("r%d@x.com", i), false))
	}
	if tt.take("a") != nil {
		t.Fatal("a kept past the total of recipients")
	}
	// The transaction being added to is never the one forgotten, whatever its size.
	big := newTxnTable(100, 10, 2)
	for i := range 4 {
		big.add("only", "s", dec(fmt.Sprintf("r%d@x.com", i), false))
	}
	if x := big.take("only"); x == nil || len(x.rcpts) != 4 {
		t.Fatalf("only = %+v", x)
	}
}

func TestTxnTableCountsRepeatsButStoresThemOnce(t *testing.T) {
	tt := newTxnTable(10, 2, 100)
	tt.add("k", "alice@x.com", dec("a@x.com", false))
	tt.add("k", "alice@x.com", dec("a@x.com", true))
	tt.add("k", "alice@x.com", dec("b@x.com", false))
	if res := tt.add("k", "alice@x.com", dec("c@x.com", false)); !res.full {
		t.Fatal("third distinct recipient accepted with a limit of 2")
	}
	if res := tt.add("k", "alice@x.com", dec("b@x.com", false)); res.full {
		t.Fatal("a repeat refused as if new")
	}
	x := tt.take("k")
	if x.seen != 4 || !x.held || !slices.Equal(inputs(x), []string{"a@x.com", "b@x.com"}) || x.rcpts[0].Verdict != guard.Hold || x.sender != "alice@x.com" {
		t.Fatalf("txn = %+v", x)
	}
}
