package config

import (
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits bounds what clients can make the daemon spend, whatever they send.
type Limits struct {
	// MaxConnections bounds the open connections of each listener; a connection past it
	// is refused at once (SMTP listeners say 421 first).
	MaxConnections int
	// MaxConnectionsPerClient bounds the open connections of one client address (an IPv6
	// client's /64) on each listener. An MTA opens one milter or policy connection per
	// smtpd process, so this must stay above the MTA's process limit (Postfix: 100).
	MaxConnectionsPerClient int
	// SpoolAboveBytes: a message being received is kept in memory up to this size, then
	// spooled to a file in data_dir/spool, so memory stays bounded whatever clients send.
	SpoolAboveBytes int64
	// MinFreeBytes: below this much free space in data_dir, /healthz answers 503.
	MinFreeBytes int64
}

// Built-in limits.
const (
	DefaultMaxConnections          = 1000
	DefaultMaxConnectionsPerClient = 200
	DefaultSpoolAboveBytes         = 256 << 10
	DefaultMinFreeBytes            = 256 << 20
	DefaultAuthMaxFailures         = 5
	DefaultAuthWindow              = 15 * time.Minute
	DefaultSessionIdle             = 30 * time.Minute
	DefaultSessionMax              = 12 * time.Hour
)

func defaultLimits(c *Config) {
	c.Limits = Limits{
		MaxConnections:          DefaultMaxConnections,
		MaxConnectionsPerClient: DefaultMaxConnectionsPerClient,
		SpoolAboveBytes:         DefaultSpoolAboveBytes,
		MinFreeBytes:            DefaultMinFreeBytes,
	}
	c.Relay.AuthMaxFailures = DefaultAuthMaxFailures
	c.Relay.AuthWindow = DefaultAuthWindow
	c.Admin.SessionIdle = DefaultSessionIdle
	c.Admin.SessionMax = DefaultSessionMax
}

type rawLimits struct {
	MaxConnections          yaml.Node `yaml:"max_connections"`
	MaxConnectionsPerClient yaml.Node `yaml:"max_connections_per_client"`
	SpoolAboveBytes         yaml.Node `yaml:"spool_above_bytes"`
	MinFreeBytes            yaml.Node `yaml:"min_free_bytes"`
}

func (r *rawFile) applyLimits(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	intKey := func(key string, n *yaml.Node, dst *int, lo, hi int64) {
		var v int64
		if e := integer(key, n, &v, lo, hi); e != nil {
			add(e)
		} else if present(n) {
			*dst = int(v)
		}
	}
	int64Key := func(key string, n *yaml.Node, dst *int64, lo, hi int64) {
		var v int64
		if e := integer(key, n, &v, lo, hi); e != nil {
			add(e)
		} else if present(n) {
			*dst = v
		}
	}
	l := &r.Limits
	intKey("limits.max_connections", &l.MaxConnections, &c.Limits.MaxConnections, 1, 1_000_000)
	intKey("limits.max_connections_per_client", &l.MaxConnectionsPerClient, &c.Limits.MaxConnectionsPerClient, 1, 1_000_000)
	int64Key("limits.spool_above_bytes", &l.SpoolAboveBytes, &c.Limits.SpoolAboveBytes, 4096, 1<<30)
	int64Key("limits.min_free_bytes", &l.MinFreeBytes, &c.Limits.MinFreeBytes, 0, 1<<50)
	intKey("relay.auth_max_failures", &r.Relay.AuthMaxFailures, &c.Relay.AuthMaxFailures, 1, 1000)
	add(duration("relay.auth_window", &r.Relay.AuthWindow, &c.Relay.AuthWindow, time.Minute, 24*time.Hour))
	add(duration("admin.session_idle", &r.Admin.SessionIdle, &c.Admin.SessionIdle, time.Minute, 7*24*time.Hour))
	add(duration("admin.session_max", &r.Admin.SessionMax, &c.Admin.SessionMax, time.Minute, 30*24*time.Hour))
	if c.Admin.SessionIdle > c.Admin.SessionMax {
		add(&Error{Line: max(r.Admin.SessionIdle.Line, r.Admin.SessionMax.Line), Msg: "admin.session_idle is longer than admin.session_max"})
	}
	return errs
}
