package dnsq

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSystemServers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := SystemServers(write("ok", "# generated\nsearch example.org\nnameserver 192.0.2.53\n; old\n  nameserver\t2001:db8::53  # v6\nnameserver fe80::1%eth0\noptions edns0\n"))
	if want := []string{"192.0.2.53:53", "[2001:db8::53]:53", "[fe80::1%eth0]:53"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("SystemServers = %v, %v; want %v", got, err, want)
	}
	for name, text := range map[string]string{
		"none":  "search example.org\n# nameserver 192.0.2.1\n",
		"empty": "",
	} {
		if _, err := SystemServers(write(name, text)); err == nil || !strings.Contains(err.Error(), "no nameserver") {
			t.Errorf("%s: err %v, want one saying there is no nameserver", name, err)
		}
	}
	if _, err := SystemServers(write("bad", "nameserver dns.example.org\n")); err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Errorf("a host name as nameserver: err %v", err)
	}
	if _, err := SystemServers(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file gave no error")
	}
}

func FuzzResolvConf(f *testing.F) {
	f.Add("nameserver 192.0.2.1\nnameserver ::1\n")
	f.Add("nameserver\n")
	f.Add("nameserver fe80::1%eth0 x\n# c\n")
	f.Fuzz(func(t *testing.T, text string) {
		servers, err := parseResolvConf(strings.NewReader(text))
		if err == nil && len(servers) == 0 {
			t.Fatal("no servers and no error")
		}
		for _, s := range servers {
			if _, err := serverAddr(s); err != nil || !strings.HasSuffix(s, ":53") {
				t.Fatalf("server %q: %v", s, err)
			}
		}
	})
}
