package config

import (
	"strings"
	"testing"
	"time"
)

func TestLearningKeys(t *testing.T) {
	c, err := Parse([]byte("learning:\n  sender_min: 0\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Learning.SenderMin != 0 || c.Learning.SenderForgetAfter != DefaultSenderForgetAfter || c.Learning.SenderMaxRows != DefaultSenderMaxRows {
		t.Errorf("sender_min: 0 (off), the rest the defaults: got %+v", c.Learning)
	}
	if d := Default().Learning; d.SenderMin != 5 || d.SenderForgetAfter != 365*24*time.Hour || d.SenderMaxRows != 1_000_000 {
		t.Errorf("defaults %+v", d)
	}
}

func TestBadLearningValuesNameTheKeyAndLine(t *testing.T) {
	for in, want := range map[string]string{
		"learning:\n  sender_min: -1\n":            "rg.yaml:2: learning.sender_min: want a whole number from 0 to 1000000, got -1",
		"learning:\n  sender_min: five\n":          `rg.yaml:2: learning.sender_min: want a whole number from 0 to 1000000, got "five"`,
		"learning:\n  sender_min: 2.5\n":           "rg.yaml:2: learning.sender_min: want a whole number",
		"learning:\n  sender_forget_after: 2h\n":   "rg.yaml:2: learning.sender_forget_after: want a duration from 24h0m0s to 87600h0m0s",
		"learning:\n  sender_forget_after: soon\n": "rg.yaml:2: learning.sender_forget_after: want a duration",
		"learning:\n  sender_max_rows: 10\n":       "rg.yaml:2: learning.sender_max_rows: want a whole number from 1000 to 100000000, got 10",
		"learning:\n  sender_mini: 5\n":            "sender_mini",
		"learning: 5\n":                            "rg.yaml:1",
	} {
		_, err := Parse([]byte(in), "rg.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want an error with %q", in, err, want)
		}
	}
}

func TestValidateChecksLearningMadeByCode(t *testing.T) {
	c := Default()
	c.Learning.SenderMin, c.Learning.SenderForgetAfter, c.Learning.SenderMaxRows = -1, time.Hour, 0
	err := c.Validate()
	for _, want := range []string{"learning.sender_min", "learning.sender_forget_after", "learning.sender_max_rows"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v; want it to name %s", err, want)
		}
	}
}

func TestLearningProposeAfter(t *testing.T) {
	if c := Default(); c.Learning.ProposeAfter != DefaultProposeAfter || DefaultProposeAfter != 3 {
		t.Fatalf("default propose_after %d", c.Learning.ProposeAfter)
	}
	c, err := Parse([]byte("learning:\n  propose_after: 5\n"), "rg.yaml")
	if err != nil || c.Learning.ProposeAfter != 5 {
		t.Fatalf("propose_after 5: %d, %v", c.Learning.ProposeAfter, err)
	}
	if c, err := Parse([]byte("learning:\n"), "rg.yaml"); err != nil || c.Learning.ProposeAfter != 3 {
		t.Fatalf("empty learning: %d, %v", c.Learning.ProposeAfter, err)
	}
	for in, want := range map[string]string{
		"learning:\n  propose_after: 0\n":    "rg.yaml:2: learning.propose_after: want a whole number from 1 to 1000, got 0",
		"learning:\n  propose_after: many\n": "rg.yaml:2: learning.propose_after: want a whole number from 1 to 1000",
		"learning:\n  propose_after: 2.5\n":  "rg.yaml:2: learning.propose_after: want a whole number",
		"learning:\n  propose_afer: 3\n":     "rg.yaml:2:",
	} {
		_, err := Parse([]byte(in), "rg.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v; want it to start with %q", in, err, want)
		}
	}
	c = Default()
	c.Learning.ProposeAfter = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "learning.propose_after") {
		t.Errorf("Validate of propose_after 0 made by code: %v", err)
	}
}
