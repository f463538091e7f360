package config

import (
	"strings"
	"testing"
)

func TestDestinationForms(t *testing.T) {
	in := `
relay:
  upstream:
    address: smtp.example.net:587
    tls: required
    tls_server_name: mx.example.net
    ca_file: ca.pem
    auth:
      username: rcptguard
      password_file: upstream.pass
quarantine:
  reinject: 127.0.0.1:10026
`
	c, err := Parse([]byte(in), "/etc/rcptguard/rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Destination{Address: "smtp.example.net:587", TLS: TLSRequired, ServerName: "mx.example.net",
		CAFile: "/etc/rcptguard/ca.pem", Username: "rcptguard", PasswordFile: "/etc/rcptguard/upstream.pass"}
	if got := c.UpstreamDestination(); got != want {
		t.Errorf("upstream %+v, want %+v", got, want)
	}
	// The string form keeps each key's behaviour: plain re-injection, opportunistic
	// notices (which go where released mail goes without a smarthost).
	if got := c.ReinjectDestination(); got != (Destination{Address: "127.0.0.1:10026", TLS: TLSNone}) {
		t.Errorf("reinject %+v", got)
	}
	if got := c.NoticeDestination(); got != (Destination{Address: "127.0.0.1:10026", TLS: TLSOpportunistic}) {
		t.Errorf("notices %+v", got)
	}
	if c.ReinjectAddr() != "127.0.0.1:10026" || c.NoticeSmarthost() != "127.0.0.1:10026" {
		t.Errorf("addresses %q %q", c.ReinjectAddr(), c.NoticeSmarthost())
	}

	// Without quarantine.reinject, released mail and notices follow relay.upstream, with
	// its TLS and AUTH.
	c, err = Parse([]byte("relay:\n  upstream: {address: 'localhost:25', auth: {username: u, password_file: /p}}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if d := c.ReinjectDestination(); d.Address != "localhost:25" || d.TLS != TLSNone || d.Username != "u" {
		t.Errorf("reinject %+v", d)
	}
	if d := c.NoticeDestination(); d.TLS != TLSOpportunistic || d.PasswordFile != "/p" {
		t.Errorf("notices %+v", d)
	}
	if c.Notice.Smarthost.Address != "" {
		t.Errorf("smarthost %+v", c.Notice.Smarthost)
	}
}

func TestDestinationErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"relay:\n  upstream: [a]\n", "rg.yaml:2: relay.upstream: want host:port or a mapping"},
		{"relay:\n  upstream: nope\n", "rg.yaml:2: relay.upstream: want host:port"},
		{"relay:\n  upstream:\n    tls: required\n", "rg.yaml:3: relay.upstream: address: is missing"},
		{"relay:\n  upstream:\n    address: a:25\n    tls: always\n", `rg.yaml:4: relay.upstream.tls: want none, opportunistic, required or implicit, got "always"`},
		{"relay:\n  upstream:\n    address: a:25\n    tsl: required\n", `rg.yaml:4: relay.upstream: unknown key "tsl"`},
		{"relay:\n  upstream:\n    address: a:25\n    address: b:25\n", `rg.yaml:4: relay.upstream: duplicate key "address" (first at line 3)`},
		{"relay:\n  upstream:\n    address: smtp.example.net:587\n    auth: {username: u, password_file: p}\n",
			"rg.yaml:4: relay.upstream: auth sends a password, which is never sent in plain text"},
		{"notice:\n  smarthost:\n    address: smtp.example.net:587\n    tls: none\n    auth: {username: u, password_file: p}\n",
			"rg.yaml:5: notice.smarthost: auth sends a password"},
		{"quarantine:\n  reinject:\n    address: a:25\n    auth:\n      username: u\n      password: hunter2\n",
			"rg.yaml:6: quarantine.reinject.auth: the password is never written in the config"},
		{"quarantine:\n  reinject:\n    address: a:25\n    tls: required\n    auth: {username: u}\n",
			"rg.yaml:5: quarantine.reinject.auth: want both username and password_file"},
		{"quarantine:\n  reinject:\n    address: a:25\n    ca_file: ca.pem\n",
			"rg.yaml:4: quarantine.reinject: tls_server_name and ca_file need tls"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.in), "rg.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s...", tc.in, err, tc.want)
		}
	}
	// Opportunistic TLS with AUTH is accepted: the password goes only over TLS (at run
	// time a server without STARTTLS gets none); mode none on loopback too.
	for _, ok := range []string{
		"notice:\n  smarthost: {address: smtp.example.net:587, auth: {username: u, password_file: p}}\n",
		"relay:\n  upstream: {address: '[::1]:25', tls: none, auth: {username: u, password_file: p}}\n",
		"relay:\n  upstream: {address: smtp.example.net:465, tls: implicit, auth: {username: u, password_file: p}}\n",
	} {
		if _, err := Parse([]byte(ok), "rg.yaml"); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
