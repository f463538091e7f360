package daemon

import (
	"reflect"
	"strings"
	"unicode"

	"github.com/rcptguard/rcptguard/internal/config"
)

// A reload swaps the guard: what the engine is built from (own_domains, protect, allow,
// block, known_file, providers), the policy, and the senders' rule (learning.sender_min and
// the history's bounds). It puts in force the held-message settings (held.SettingsFrom:
// the notices, quarantine.reinject, the expiry, return and purge timings, always_ask) and
// the running relay's relay.upstream. The administrators' pages read admin.users anew.
// Everything else is read when serve starts: listeners, the rest of the relay, data_dir,
// the quarantine's database and size limit, the link signing key, the rest of admin,
// limits, learning.propose_after, content (the doors' classifier and rules).
// restartOnly names those settings that differ between the configuration serve started
// with and a new one, so that a reload can say which of its changes wait for a restart.
func restartOnly(started, next config.Config) []string {
	var out []string
	sections := []struct {
		name string
		a, b any
	}{
		{"listen", started.Listen, next.Listen},
		{"relay", started.Relay, next.Relay},
		{"quarantine", started.Quarantine, next.Quarantine},
		{"notice", started.Notice, next.Notice},
		{"admin", started.Admin, next.Admin},
		{"limits", started.Limits, next.Limits},
		{"content", started.Content, next.Content},
	}
	for _, s := range sections {
		for _, k := range changedFields(s.name, s.a, s.b) {
			// A relay that runs takes a new upstream; one that does not waits for a restart.
			relayKeeps := k == "relay.upstream" && started.Relay.Upstream.Address != "" && next.Relay.Upstream.Address != ""
			if !appliedByReload[k] && !relayKeeps {
				out = append(out, k)
			}
		}
	}
	if started.DataDir != next.DataDir {
		out = append(out, "data_dir")
	}
	if started.Learning.ProposeAfter != next.Learning.ProposeAfter {
		out = append(out, "learning.propose_after")
	}
	return out
}

// appliedByReload are the settings of the sections above that a reload puts in force.
var appliedByReload = map[string]bool{
	"admin.users": true, // read anew on every sign-in and request
	// held.SettingsFrom reads these; the daemon applies them on every reload.
	"quarantine.reinject": true, "quarantine.expire_after": true, "quarantine.on_expiry": true,
	"quarantine.purge_after": true, "quarantine.always_ask": true,
	"notice.smarthost": true, "notice.from": true, "notice.base_url": true, "notice.org": true,
	"notice.hostname": true,
}

// changedFields names the fields of two values of one struct type that differ, as
// section.snake_name (the configuration file's keys).
func changedFields(section string, a, b any) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			out = append(out, section+"."+snake(va.Type().Field(i).Name))
		}
	}
	return out
}

// snake turns a Go field name into the key's form: BaseURL -> base_url, TLSCert ->
// tls_cert, MaxConnectionsPerClient -> max_connections_per_client.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
