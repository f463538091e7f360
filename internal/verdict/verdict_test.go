package verdict

import (
	"slices"
	"testing"
)

func TestNamesRoundTrip(t *testing.T) {
	for v := Allow; v <= Invalid; v++ {
		var got Verdict
		if err := got.Scan(v.String()); err != nil || got != v {
			t.Errorf("Scan(%q) = %v, %v; want %v", v.String(), got, err, v)
		}
		val, err := v.Value()
		if err != nil || val != v.String() {
			t.Errorf("%v.Value() = %v, %v", v, val, err)
		}
	}
}

func TestUnknownNamesAreRefused(t *testing.T) {
	for _, s := range []string{"pass", "", "HOLD", "allow ", "verdict(9)"} {
		var v Verdict
		if err := v.Scan(s); err == nil {
			t.Errorf("Scan(%q) accepted: %v", s, v)
		}
		if err := v.Scan([]byte(s)); err == nil {
			t.Errorf("Scan([]byte %q) accepted: %v", s, v)
		}
	}
	if _, err := Verdict(9).Value(); err == nil {
		t.Error("Value of an unknown verdict was accepted")
	}
	if _, err := ParsePolicy("invalid"); err == nil {
		t.Error("ParsePolicy accepted invalid: a policy cannot assign it")
	}
}

func TestTheTwoQuestions(t *testing.T) {
	if got := Names(Verdict.Stops); !slices.Equal(got, []string{"hold", "reject", "invalid"}) {
		t.Errorf("Stops: %v", got)
	}
	if got := Names(Verdict.Suspect); !slices.Equal(got, []string{"warn", "hold", "reject"}) {
		t.Errorf("Suspect: %v", got)
	}
}
