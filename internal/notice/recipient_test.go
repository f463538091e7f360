package notice

import "testing"

func TestRecipient(t *testing.T) {
	own := []string{"army.mil", "Example.ORG."}
	tests := []struct {
		name, sender, auth string
		want               string
		ok                 bool
	}{
		{"own domain sender", "alice@army.mil", "", "alice@army.mil", true},
		{"subdomain sender", "bob@hq.army.mil", "", "bob@hq.army.mil", true},
		{"case and angle brackets", "<Carol@EXAMPLE.org>", "", "Carol@example.org", true},
		{"outside sender", "mallory@evil.com", "", "", false},
		{"lookalike suffix is not a subdomain", "x@notarmy.mil", "", "", false},
		{"lookalike of own domain", "x@army.ml", "", "", false},
		{"null sender", "", "", "", false},
		{"null sender brackets", "<>", "", "", false},
		{"null sender with bare auth user", "", "alice", "", false},
		{"auth user address wins", "forged@evil.com", "alice@army.mil", "alice@army.mil", true},
		{"auth user in other domain", "x@evil.com", "alice@partner.net", "alice@partner.net", true},
		{"bare auth user falls through to sender", "alice@army.mil", "alice", "alice@army.mil", true},
		{"bare auth user, outside sender", "x@evil.com", "alice", "", false},
		{"control characters in sender", "alice@army.mil\r\nBcc: x@y", "", "", false},
		{"control characters in auth user", "", "alice@army.mil\nBcc: x@y", "", false},
		{"bare domain sender", "army.mil", "", "", false},
		{"garbage", "not an address", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Recipient(tt.sender, tt.auth, own)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Recipient(%q, %q) = %q, %v; want %q, %v", tt.sender, tt.auth, got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := Recipient("alice@army.mil", "", nil); ok {
		t.Error("no own domains: want no recipient")
	}
	if _, ok := Recipient("alice@army.mil", "", []string{"", "not a domain!"}); ok {
		t.Error("invalid own domains: want no recipient")
	}
}
