package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestServeDefaultsAreLoopback(t *testing.T) {
	c := Default()
	if c.Listen.Policy != "127.0.0.1:10040" || c.Listen.Milter != "127.0.0.1:10041" || c.Listen.HTTP != "127.0.0.1:8025" {
		t.Errorf("listen %+v", c.Listen)
	}
	if c.Relay.Upstream.Address != "" {
		t.Error("the relay is off until an upstream is configured")
	}
	if c.DataDir != DefaultDataDir {
		t.Errorf("data dir %q", c.DataDir)
	}
}

func TestServeKeys(t *testing.T) {
	in := `listen:
  policy: 127.0.0.1:20040
  milter: off
  relay: "[::1]:2525"
  http: ""
relay:
  upstream: smtp.example.net:587
  hostname: rcptguard.example.net
  allowed_networks: [10.0.0.0/8, 192.0.2.7]
  users:
    app: "$2a$10$abcdefghijklmnopqrstuv"
  tls_cert: cert.pem
  tls_key: key.pem
  max_message_bytes: 1048576
  max_recipients: 20
data_dir: data
`
	c, err := Parse([]byte(in), "/etc/rcptguard/rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != (Listen{Policy: "127.0.0.1:20040", Relay: "[::1]:2525", Web: DefaultWebAddr, Intake: DefaultIntakeAddr}) {
		t.Errorf("listen %+v", c.Listen)
	}
	r := c.Relay
	if r.Upstream.Address != "smtp.example.net:587" || r.Hostname != "rcptguard.example.net" || r.MaxMessageBytes != 1<<20 || r.MaxRecipients != 20 {
		t.Errorf("relay %+v", r)
	}
	if len(r.AllowedNetworks) != 2 || r.AllowedNetworks[1] != netip.MustParsePrefix("192.0.2.7/32") {
		t.Errorf("networks %v", r.AllowedNetworks)
	}
	if r.Users["app"] == "" || r.TLSCert != "/etc/rcptguard/cert.pem" || c.DataDir != "/etc/rcptguard/data" {
		t.Errorf("users %v cert %q data %q", r.Users, r.TLSCert, c.DataDir)
	}
}

func TestServeKeyErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"listen:\n  policy: 10040\n", "rg.yaml:2: listen.policy: want host:port"},
		{"listen:\n  http: localhost:http\n", "rg.yaml:2: listen.http"},
		{"relay:\n  allowed_networks: [10.0.0/8]\n", `rg.yaml:2: relay.allowed_networks: "10.0.0/8"`},
		{"relay:\n  users:\n    app: secret\n", "rg.yaml:3: relay.users: want user: bcrypt hash"},
		{"relay:\n  max_recipients: 0\n", "rg.yaml:2: relay.max_recipients: want a whole number"},
		{"relay:\n  tls_cert: c.pem\n", "relay.tls_cert and relay.tls_key go together"},
		{"relay:\n  upstrem: x:25\n", `rg.yaml:2: unknown key "upstrem"`},
	} {
		_, err := Parse([]byte(c.in), "rg.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

// TestDataDirRule: the one rule of data_dir (see PackagedDataDir). A relative data_dir is
// relative to the config file's folder, whatever the working directory; a config file
// without data_dir means the packaged folder; no config at all means ./rcptguard-data.
func TestDataDirRule(t *testing.T) {
	t.Chdir(t.TempDir()) // a relative result would show up as relative to this
	for _, tt := range []struct {
		name, yaml, path, want string
	}{
		{"relative to the config's folder", "data_dir: data\n", "/etc/rcptguard/rcptguard.yaml", "/etc/rcptguard/data"},
		{"dot-dot stays under the config's folder's parent", "data_dir: ../state\n", "/srv/rg/etc/rcptguard.yaml", "/srv/rg/state"},
		{"relative config path", "data_dir: data\n", "conf/rcptguard.yaml", "conf/data"},
		{"absolute", "data_dir: /srv/rcptguard\n", "/etc/rcptguard/rcptguard.yaml", "/srv/rcptguard"},
		{"a config file without data_dir", "protect: [army.mil]\n", "/etc/rcptguard/rcptguard.yaml", PackagedDataDir},
		{"an empty config file", "", "/etc/rcptguard/rcptguard.yaml", PackagedDataDir},
		{"a comment-only config file", "# nothing\n", "/etc/rcptguard/rcptguard.yaml", PackagedDataDir},
		{"no file: the built-in defaults", "protect: [army.mil]\n", "", DefaultDataDir},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if c.DataDir != tt.want {
				t.Errorf("data_dir = %q, want %q", c.DataDir, tt.want)
			}
		})
	}
	if d := Default(); d.DataDir != "rcptguard-data" || PackagedDataDir != "/var/lib/rcptguard" {
		t.Errorf("defaults: no config %q, with a config %q; the docs and the package say rcptguard-data and /var/lib/rcptguard", d.DataDir, PackagedDataDir)
	}
}
