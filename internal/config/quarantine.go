package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Quarantine configures held mail: where released mail goes and how long it is kept.
type Quarantine struct {
	// Reinject is the SMTP service that released mail is handed to: Postfix's
	// re-injection smtpd without filters, or the relay's upstream. No address uses
	// relay.upstream (ReinjectDestination).
	Reinject    Destination
	ExpireAfter time.Duration // how long a message waits for a decision
	OnExpiry    string        // "delete" or "return" (to the sender)
	PurgeAfter  time.Duration // how long decided messages are kept
	// AlwaysAsk lists domains and namespaces whose confirmation by a sender is never
	// remembered (lookalikes of protected domains are always asked about anyway).
	AlwaysAsk []Entry
	// MaxMessageBytes bounds one held message.
	MaxMessageBytes int64
	// Postgres is the connection string of a PostgreSQL database for the quarantine
	// (several rcptguard nodes share it); "" keeps it in SQLite in data_dir.
	Postgres string
}

// Notice configures the sender's notice and the validation page's links.
type Notice struct {
	Smarthost Destination // the notices are sent through it; no address uses quarantine.reinject (NoticeDestination)
	From      string      // the notices' From address
	BaseURL   string      // where senders reach the validation page: http(s)://host[:port]
	Org       string      // the organisation's name, shown in notices and pages
	// KeyFile holds the key that signs the links (64 hex digits), created when missing;
	// "" means token.key in data_dir.
	KeyFile  string
	Hostname string // the name given in EHLO
}

// Admin configures the administrators' web pages.
type Admin struct {
	Users map[string]string // name -> bcrypt hash
	// SecureCookies marks the session cookie Secure: set it when the pages are served
	// over HTTPS (behind a TLS proxy).
	SecureCookies bool
	// SessionIdle ends a session that has not been used for that long; SessionMax ends
	// any session that old. Sessions are kept server-side: signing out or changing a
	// user's password ends them.
	SessionIdle, SessionMax time.Duration
}

// Built-in quarantine settings.
const (
	DefaultWebAddr     = "127.0.0.1:8026"
	DefaultIntakeAddr  = "127.0.0.1:10026"
	DefaultExpireAfter = 14 * 24 * time.Hour
	DefaultPurgeAfter  = 30 * 24 * time.Hour
)

func defaultQuarantine(c *Config) {
	c.Listen.Web = DefaultWebAddr
	c.Listen.Intake = DefaultIntakeAddr
	c.Quarantine = Quarantine{ExpireAfter: DefaultExpireAfter, OnExpiry: "delete", PurgeAfter: DefaultPurgeAfter,
		MaxMessageBytes: 36 << 20}
	c.Notice = Notice{From: "rcptguard@localhost", Org: "your organisation"}
}

type rawQuarantine struct {
	Reinject        yaml.Node `yaml:"reinject"`
	ExpireAfter     yaml.Node `yaml:"expire_after"`
	OnExpiry        yaml.Node `yaml:"on_expiry"`
	PurgeAfter      yaml.Node `yaml:"purge_after"`
	AlwaysAsk       yaml.Node `yaml:"always_ask"`
	MaxMessageBytes yaml.Node `yaml:"max_message_bytes"`
	Postgres        yaml.Node `yaml:"postgres"`
}

type rawNotice struct {
	Smarthost yaml.Node `yaml:"smarthost"`
	From      yaml.Node `yaml:"from"`
	BaseURL   yaml.Node `yaml:"base_url"`
	Org       yaml.Node `yaml:"org"`
	KeyFile   yaml.Node `yaml:"key_file"`
	Hostname  yaml.Node `yaml:"hostname"`
}

type rawAdmin struct {
	Users         yaml.Node `yaml:"users"`
	SecureCookies yaml.Node `yaml:"secure_cookies"`
	SessionIdle   yaml.Node `yaml:"session_idle"`
	SessionMax    yaml.Node `yaml:"session_max"`
}

func (r *rawFile) applyQuarantine(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	q := &r.Quarantine
	add(hostPort("listen.web", &r.Listen.Web, &c.Listen.Web, true))
	add(hostPort("listen.intake", &r.Listen.Intake, &c.Listen.Intake, true))
	errs = append(errs, destination("quarantine.reinject", &q.Reinject, &c.Quarantine.Reinject, TLSNone)...)
	add(duration("quarantine.expire_after", &q.ExpireAfter, &c.Quarantine.ExpireAfter, time.Hour, 365*24*time.Hour))
	add(duration("quarantine.purge_after", &q.PurgeAfter, &c.Quarantine.PurgeAfter, time.Hour, 10*365*24*time.Hour))
	add(text("quarantine.on_expiry", &q.OnExpiry, &c.Quarantine.OnExpiry))
	if v := c.Quarantine.OnExpiry; v != "delete" && v != "return" {
		add(&Error{Line: q.OnExpiry.Line, Msg: fmt.Sprintf("quarantine.on_expiry: want delete or return, got %q", v)})
	}
	entries, es := entryList("quarantine.always_ask", &q.AlwaysAsk)
	errs = append(errs, es...)
	if len(es) == 0 && present(&q.AlwaysAsk) {
		c.Quarantine.AlwaysAsk = entries
	}
	var n int64
	if e := integer("quarantine.max_message_bytes", &q.MaxMessageBytes, &n, 1024, 1<<30); e != nil {
		add(e)
	} else if present(&q.MaxMessageBytes) {
		c.Quarantine.MaxMessageBytes = n
	}
	add(text("quarantine.postgres", &q.Postgres, &c.Quarantine.Postgres))
	if p := c.Quarantine.Postgres; p != "" && !strings.HasPrefix(p, "postgres://") && !strings.HasPrefix(p, "postgresql://") &&
		!strings.Contains(p, "=") {
		add(&Error{Line: q.Postgres.Line, Msg: "quarantine.postgres: want a connection string such as postgres://rcptguard@db.example.net/rcptguard or \"host=db dbname=rcptguard\""})
	}
	nt := &r.Notice
	errs = append(errs, destination("notice.smarthost", &nt.Smarthost, &c.Notice.Smarthost, TLSOpportunistic)...)
	add(text("notice.from", &nt.From, &c.Notice.From))
	if a, err := mail.ParseAddress(c.Notice.From); err != nil || a.Name != "" || strings.ContainsAny(c.Notice.From, "<> \t\r\n") {
		add(&Error{Line: nt.From.Line, Msg: fmt.Sprintf("notice.from: want a plain address such as rcptguard@example.org, got %q", c.Notice.From)})
	}
	add(text("notice.base_url", &nt.BaseURL, &c.Notice.BaseURL))
	if b := c.Notice.BaseURL; b != "" {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			add(&Error{Line: nt.BaseURL.Line, Msg: fmt.Sprintf("notice.base_url: want http(s)://host[:port][/path], got %q", b)})
		}
	}
	add(text("notice.org", &nt.Org, &c.Notice.Org))
	add(text("notice.key_file", &nt.KeyFile, &c.Notice.KeyFile))
	add(text("notice.hostname", &nt.Hostname, &c.Notice.Hostname))
	add(users("admin.users", &r.Admin.Users, &c.Admin.Users))
	add(boolean("admin.secure_cookies", &r.Admin.SecureCookies, &c.Admin.SecureCookies))
	return errs
}

// duration reads a duration: Go's form ("36h", "90m") or whole days ("14d").
func duration(key string, n *yaml.Node, dst *time.Duration, lo, hi time.Duration) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	n = resolve(n)
	bad := &Error{Line: line, Msg: fmt.Sprintf("%s: want a duration from %s to %s such as 14d or 36h, got %s", key, lo, hi, describe(n))}
	if n.Kind != yaml.ScalarNode {
		return bad
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(n.Value, "d"); ok {
		var k int
		if _, err := fmt.Sscanf(days, "%d", &k); err != nil || fmt.Sprint(k) != days {
			return bad
		}
		d = time.Duration(k) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(n.Value); err != nil {
			return bad
		}
	}
	if d < lo || d > hi {
		return bad
	}
	*dst = d
	return nil
}

// ReinjectAddr is the address of ReinjectDestination, "" for none.
func (c Config) ReinjectAddr() string { return c.ReinjectDestination().Address }

// NoticeSmarthost is the address of NoticeDestination, "" for none.
func (c Config) NoticeSmarthost() string { return c.NoticeDestination().Address }

// WebBaseURL is where senders reach the validation page: notice.base_url, else the web
// listener's address over http.
func (c Config) WebBaseURL() string {
	if c.Notice.BaseURL != "" {
		return strings.TrimRight(c.Notice.BaseURL, "/")
	}
	return "http://" + c.Listen.Web
}
