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

func TestMajorAreProvidersToo(t *testing.T) {
	all := map[string]bool{}
	for _, d := range Domains() {
		all[d.ASCII] = true
	}
	major := Major()
	if len(major) < 5 || len(major) > 20 {
		t.Fatalf("%d major providers: the mark is for the few biggest", len(major))
	}
	have := map[string]bool{}
	for _, d := range major {
		have[d.ASCII] = true
		if !all[d.ASCII] {
			t.Errorf("%s is major but not in Domains", d.ASCII)
		}
	}
	for _, want := range []string{"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "aol.com", "icloud.com"} {
		if !have[want] {
			t.Errorf("%s is not major", want)
		}
	}
	if have["gmx.de"] || have["web.de"] {
		t.Error("regional providers are not major")
	}
}
