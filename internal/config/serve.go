package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Listen says where `rcptguard serve` listens; "" turns a listener off.
type Listen struct {
	Policy string // the Postfix policy service
	Milter string // the milter
	Relay  string // the SMTP relay; used only when Relay.Upstream has an address
	HTTP   string // the HTTP API, /metrics and /healthz
	Web    string // the validation page and the administrators' pages
	// Intake is the quarantine intake: the SMTP listener that the policy service's
	// FILTER action hands held messages to.
	Intake string
}

// Relay configures the SMTP relay (the outbound smarthost).
type Relay struct {
	Upstream        Destination       // the next hop; no address turns the relay off
	Hostname        string            // the name in the greeting and the Received header
	AllowedNetworks []netip.Prefix    // clients that may relay without AUTH
	Users           map[string]string // AUTH users: name -> bcrypt hash
	TLSCert, TLSKey string            // certificate and key files for STARTTLS
	MaxMessageBytes int64
	MaxRecipients   int
	// AuthMaxFailures failed AUTH attempts per client address, and per user name, within
	// AuthWindow (across connections) make further attempts fail with 454 until the
	// window has passed.
	AuthMaxFailures int
	AuthWindow      time.Duration
}

// The built-in listeners: loopback only.
const (
	DefaultPolicyAddr = "127.0.0.1:10040"
	DefaultMilterAddr = "127.0.0.1:10041"
	DefaultRelayAddr  = "127.0.0.1:10025"
	DefaultHTTPAddr   = "127.0.0.1:8025"
)

// Where data_dir is. This is the one rule, and docs/install.md states it the same way:
//
//   - data_dir set in a config file: that folder; a relative one is relative to the
//     config file's folder, never to the working directory.
//   - a config file without data_dir: PackagedDataDir, the folder the Debian package
//     creates and its systemd unit names (StateDirectory=rcptguard). $STATE_DIRECTORY is
//     not read: the service and an administrator's shell commands (`rcptguard quarantine
//     list --config ...`) must find the same folder.
//   - no config file at all (built-in defaults): DefaultDataDir, ./rcptguard-data in the
//     working directory, for a trial.
const (
	PackagedDataDir = "/var/lib/rcptguard"
	DefaultDataDir  = "rcptguard-data"
)

func defaultServe(c *Config) {
	c.Listen = Listen{Policy: DefaultPolicyAddr, Milter: DefaultMilterAddr, Relay: DefaultRelayAddr, HTTP: DefaultHTTPAddr}
	c.Relay = Relay{
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		MaxMessageBytes: 36 << 20,
		MaxRecipients:   100,
	}
	c.DataDir = DefaultDataDir
	defaultQuarantine(c)
	defaultLimits(c)
}

type rawListen struct {
	Policy yaml.Node `yaml:"policy"`
	Milter yaml.Node `yaml:"milter"`
	Relay  yaml.Node `yaml:"relay"`
	HTTP   yaml.Node `yaml:"http"`
	Web    yaml.Node `yaml:"web"`
	Intake yaml.Node `yaml:"intake"`
}

type rawRelay struct {
	Upstream        yaml.Node `yaml:"upstream"`
	Hostname        yaml.Node `yaml:"hostname"`
	AllowedNetworks yaml.Node `yaml:"allowed_networks"`
	Users           yaml.Node `yaml:"users"`
	TLSCert         yaml.Node `yaml:"tls_cert"`
	TLSKey          yaml.Node `yaml:"tls_key"`
	MaxMessageBytes yaml.Node `yaml:"max_message_bytes"`
	MaxRecipients   yaml.Node `yaml:"max_recipients"`
	AuthMaxFailures yaml.Node `yaml:"auth_max_failures"`
	AuthWindow      yaml.Node `yaml:"auth_window"`
}

func (r *rawFile) applyServe(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	add(hostPort("listen.policy", &r.Listen.Policy, &c.Listen.Policy, true))
	add(hostPort("listen.milter", &r.Listen.Milter, &c.Listen.Milter, true))
	add(hostPort("listen.relay", &r.Listen.Relay, &c.Listen.Relay, true))
	add(hostPort("listen.http", &r.Listen.HTTP, &c.Listen.HTTP, true))
	errs = append(errs, destination("relay.upstream", &r.Relay.Upstream, &c.Relay.Upstream, TLSNone)...)
	add(text("relay.hostname", &r.Relay.Hostname, &c.Relay.Hostname))
	add(text("relay.tls_cert", &r.Relay.TLSCert, &c.Relay.TLSCert))
	add(text("relay.tls_key", &r.Relay.TLSKey, &c.Relay.TLSKey))
	add(prefixes("relay.allowed_networks", &r.Relay.AllowedNetworks, &c.Relay.AllowedNetworks))
	add(users("relay.users", &r.Relay.Users, &c.Relay.Users))
	var n int64
	if e := integer("relay.max_message_bytes", &r.Relay.MaxMessageBytes, &n, 1024, 1<<30); e != nil {
		add(e)
	} else if present(&r.Relay.MaxMessageBytes) {
		c.Relay.MaxMessageBytes = n
	}
	if e := integer("relay.max_recipients", &r.Relay.MaxRecipients, &n, 1, 10000); e != nil {
		add(e)
	} else if present(&r.Relay.MaxRecipients) {
		c.Relay.MaxRecipients = int(n)
	}
	add(text("data_dir", &r.DataDir, &c.DataDir))
	if (c.Relay.TLSCert == "") != (c.Relay.TLSKey == "") {
		add(&Error{Line: max(r.Relay.TLSCert.Line, r.Relay.TLSKey.Line), Msg: "relay.tls_cert and relay.tls_key go together"})
	}
	return errs
}

// hostPort reads "host:port"; with off allowed, "" or "off" turns the listener off.
func hostPort(key string, n *yaml.Node, dst *string, off bool) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.ScalarNode {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want host:port, got %s", key, describe(n))}
	}
	if off && (n.Value == "off" || n.Value == "") {
		*dst = ""
		return nil
	}
	host, port, err := net.SplitHostPort(n.Value)
	if err == nil {
		// Port 0 picks a free port: useful in tests, and logged at start.
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil || host == "" {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want host:port such as 127.0.0.1:10040, got %q", key, n.Value)}
	}
	*dst = n.Value
	return nil
}

func prefixes(key string, n *yaml.Node, dst *[]netip.Prefix) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.SequenceNode {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want a list of networks such as [127.0.0.0/8], got %s", key, describe(n))}
	}
	out := []netip.Prefix{}
	for _, item := range n.Content {
		item = resolve(item)
		p, err := netip.ParsePrefix(item.Value)
		if err != nil {
			a, aerr := netip.ParseAddr(item.Value)
			if aerr != nil {
				return &Error{Line: item.Line, Msg: fmt.Sprintf("%s: %q is not a network such as 10.0.0.0/8 or an address", key, item.Value)}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	*dst = out
	return nil
}

func users(key string, n *yaml.Node, dst *map[string]string) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.MappingNode {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want a mapping of user names to bcrypt hashes, got %s", key, describe(n))}
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Value == "" || v.Kind != yaml.ScalarNode || len(v.Value) < 4 || v.Value[0] != '$' {
			return &Error{Line: k.Line, Msg: fmt.Sprintf("%s: want user: bcrypt hash (\"$2a$...\"), got %s", key, describe(v))}
		}
		out[k.Value] = v.Value
	}
	*dst = out
	return nil
}

func integer(key string, n *yaml.Node, dst *int64, lo, hi int64) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	var v int64
	if n = resolve(n); n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v < lo || v > hi {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want a whole number from %d to %d, got %s", key, lo, hi, describe(n))}
	}
	*dst = v
	return nil
}
