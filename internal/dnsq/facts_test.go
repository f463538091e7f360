package dnsq

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestCanReceive(t *testing.T) {
	a := []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	cases := []struct {
		name  string
		f     Facts
		can   bool
		hosts []string
	}{
		{"mx", Facts{Domain: "x.example", Status: Registered, MX: []MX{{"mx.x.example", 10}}}, true, []string{"mx.x.example"}},
		{"address only", Facts{Domain: "x.example", Status: Registered, A: a}, true, []string{"x.example"}},
		{"null mx with an address", Facts{Domain: "x.example", Status: Registered, NullMX: true, A: a}, false, nil},
		{"nothing", Facts{Domain: "x.example", Status: Registered}, false, nil},
		{"nxdomain", Facts{Domain: "x.example", Status: NotRegistered}, false, nil},
		{"failed", Facts{Domain: "x.example", Status: Unknown, Err: errors.New("timeout"), A: a}, false, nil},
	}
	for _, c := range cases {
		if got := c.f.CanReceive(); got != c.can {
			t.Errorf("%s: CanReceive = %v, want %v", c.name, got, c.can)
		}
		if got := c.f.MailHosts(); !slices.Equal(got, c.hosts) {
			t.Errorf("%s: MailHosts = %v, want %v", c.name, got, c.hosts)
		}
	}
}
