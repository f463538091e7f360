package providers

import "testing"

func TestSharedMailHostsParse(t *testing.T) {
	hs := SharedMailHosts()
	if len(hs) < 40 {
		t.Fatalf("only %d shared mail hosts", len(hs))
	}
	have := map[string]bool{}
	for _, h := range hs {
		if have[h] {
			t.Errorf("duplicate %s", h)
		}
		have[h] = true
	}
	for _, want := range []string{"google.com", "outlook.com", "pphosted.com", "mimecast.com", "zoho.eu"} {
		if !have[want] {
			t.Errorf("%s missing", want)
		}
	}
}

func TestSharedHas(t *testing.T) {
	var builtin Shared
	withExtra := NewShared([]string{"Mail.Example.NET.", " hoster.example "})
	for _, c := range []struct {
		host              string
		builtin, withMore bool
	}{
		{"aspmx.l.google.com", true, true},
		{"ALT1.ASPMX.L.GOOGLE.COM.", true, true},
		{"contoso-com.mail.protection.outlook.com", true, true},
		{"mx0a-00123.pphosted.com", true, true},
		{"google.com", true, true},
		{"notgoogle.com", false, false},
		{"google.com.evil.example", false, false},
		{"mx.farm.example", false, false},
		{"com", false, false},
		{"", false, false},
		{"mx1.mail.example.net", false, true},
		{"mail.example.net", false, true},
		{"example.net", false, false},
		{"mx.hoster.example", false, true},
	} {
		if got := builtin.Has(c.host); got != c.builtin {
			t.Errorf("built-in: Has(%q) = %v, want %v", c.host, got, c.builtin)
		}
		if got := withExtra.Has(c.host); got != c.withMore {
			t.Errorf("with extra: Has(%q) = %v, want %v", c.host, got, c.withMore)
		}
	}
}
