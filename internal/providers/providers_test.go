package providers

import "testing"

func TestDomainsParseAndIncludeTheMajorProviders(t *testing.T) {
	ds := Domains()
	if len(ds) < 100 {
		t.Fatalf("only %d providers", len(ds))
	}
	have := map[string]bool{}
	for _, d := range ds {
		if have[d.ASCII] {
			t.Errorf("duplicate %s", d.ASCII)
		}
		have[d.ASCII] = true
	}
	for _, want := range []string{"gmail.com", "googlemail.com", "outlook.com", "hotmail.co.uk", "yahoo.fr", "ymail.com", "mail.com", "gmx.de", "t-online.de", "live.co.uk", "pm.me"} {
		if !have[want] {
			t.Errorf("%s missing", want)
		}
	}
}
