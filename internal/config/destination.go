package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Destination is an SMTP server rcptguard sends to (quarantine.reinject,
// notice.smarthost, relay.upstream). In the file it is either "host:port" or a mapping:
//
//	relay:
//	  upstream:
//	    address: smtp.example.net:587
//	    tls: required            # none, opportunistic, required or implicit
//	    tls_server_name: smtp.example.net
//	    ca_file: /etc/rcptguard/upstream-ca.pem
//	    auth:
//	      username: rcptguard
//	      password_file: /etc/rcptguard/upstream.pass
//
// The password is never written in the config: password_file names a file that holds
// it, read when serve starts.
type Destination struct {
	Address string // host:port; "" for none
	// TLS is none, opportunistic, required or implicit; "" when not given, which the
	// key's default decides (see ReinjectDestination, NoticeDestination,
	// UpstreamDestination).
	TLS        string
	ServerName string // the name the server's certificate must carry; "" the host of Address
	CAFile     string // PEM file of the authorities trusted to sign it; "" the system's
	// Username and PasswordFile are the AUTH credentials; "" for no AUTH.
	Username     string
	PasswordFile string
}

// The TLS modes of a Destination (smtpout's).
const (
	TLSNone          = "none"
	TLSOpportunistic = "opportunistic"
	TLSRequired      = "required"
	TLSImplicit      = "implicit"
)

var destinationKeys = []string{"address", "tls", "tls_server_name", "ca_file", "auth"}

// destination reads a Destination: "host:port" or a mapping. defTLS is the TLS mode
// when the key gives none, for the rule that a password never goes out in plain text.
func destination(key string, n *yaml.Node, dst *Destination, defTLS string) []*Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		var addr string
		if e := hostPort(key, n, &addr, false); e != nil {
			e.Line = line
			return []*Error{e}
		}
		*dst = Destination{Address: addr}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return []*Error{{Line: line, Msg: fmt.Sprintf("%s: want host:port or a mapping with address:, got %s", key, describe(n))}}
	}
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	var d Destination
	var tlsLine, authLine, nameLine, caLine int
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			add(&Error{Line: k.Line, Msg: fmt.Sprintf("%s: duplicate key %q (first at line %d)", key, k.Value, first)})
			continue
		}
		seen[k.Value] = k.Line
		sub := key + "." + k.Value
		switch k.Value {
		case "address":
			add(hostPort(sub, v, &d.Address, false))
		case "tls":
			tlsLine = k.Line
			if rv := resolve(v); rv.Kind == yaml.ScalarNode {
				d.TLS = rv.Value
			}
			switch d.TLS {
			case TLSNone, TLSOpportunistic, TLSRequired, TLSImplicit:
			default:
				add(&Error{Line: k.Line, Msg: fmt.Sprintf("%s: want none, opportunistic, required or implicit, got %s", sub, describe(resolve(v)))})
			}
		case "tls_server_name":
			nameLine = k.Line
			add(text(sub, v, &d.ServerName))
		case "ca_file":
			caLine = k.Line
			add(text(sub, v, &d.CAFile))
		case "auth":
			authLine = k.Line
			errs = append(errs, destinationAuth(sub, v, &d)...)
		default:
			add(&Error{Line: k.Line, Msg: fmt.Sprintf("%s: unknown key %q (want %s)", key, shorten(k.Value), strings.Join(destinationKeys, ", "))})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if d.Address == "" {
		return []*Error{{Line: line, Msg: key + ": address: is missing (host:port)"}}
	}
	mode := d.TLS
	if mode == "" {
		mode = defTLS
	}
	if mode == TLSNone && (d.ServerName != "" || d.CAFile != "") {
		return []*Error{{Line: max(nameLine, caLine), Msg: fmt.Sprintf("%s: tls_server_name and ca_file need tls: opportunistic, required or implicit (tls is %s)", key, mode)}}
	}
	if d.Username != "" && mode == TLSNone && !loopbackHost(d.Address) {
		return []*Error{{Line: max(authLine, tlsLine), Msg: fmt.Sprintf("%s: auth sends a password, which is never sent in plain text: "+
			"set tls: required (or implicit), or use a loopback address (127.0.0.1, ::1, localhost) with tls: none", key)}}
	}
	*dst = d
	return nil
}

func destinationAuth(key string, n *yaml.Node, d *Destination) []*Error {
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return []*Error{{Line: line, Msg: fmt.Sprintf("%s: want a mapping {username: ..., password_file: ...}, got %s", key, describe(n))}}
	}
	var errs []*Error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		var e *Error
		switch k.Value {
		case "username":
			e = text(key+".username", v, &d.Username)
		case "password_file":
			e = text(key+".password_file", v, &d.PasswordFile)
		case "password":
			e = &Error{Line: k.Line, Msg: key + ": the password is never written in the config: put it in a file (mode 600) and name it with password_file"}
		default:
			e = &Error{Line: k.Line, Msg: fmt.Sprintf("%s: unknown key %q (want username, password_file)", key, shorten(k.Value))}
		}
		if e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 && (d.Username == "" || d.PasswordFile == "") {
		errs = append(errs, &Error{Line: line, Msg: key + ": want both username and password_file"})
	}
	return errs
}

// loopbackHost reports whether host:port names this machine: a loopback address or
// localhost.
func loopbackHost(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// withTLS returns d with tls set to def when the config gave none.
func (d Destination) withTLS(def string) Destination {
	if d.TLS == "" {
		d.TLS = def
	}
	return d
}

// ReinjectDestination is where released mail goes: quarantine.reinject, else
// relay.upstream; tls none unless given.
func (c Config) ReinjectDestination() Destination {
	d := c.Quarantine.Reinject
	if d.Address == "" {
		d = c.Relay.Upstream
	}
	return d.withTLS(TLSNone)
}

// NoticeDestination is where notices go: notice.smarthost, else the re-injection
// destination; tls opportunistic unless given (as notices always did).
func (c Config) NoticeDestination() Destination {
	d := c.Notice.Smarthost
	if d.Address == "" {
		d = c.Quarantine.Reinject
	}
	if d.Address == "" {
		d = c.Relay.Upstream
	}
	return d.withTLS(TLSOpportunistic)
}

// UpstreamDestination is the relay's upstream: relay.upstream; tls none unless given.
func (c Config) UpstreamDestination() Destination {
	return c.Relay.Upstream.withTLS(TLSNone)
}
