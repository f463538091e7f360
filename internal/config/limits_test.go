package config

import (
	"strings"
	"testing"
	"time"
)

func TestLimitsDefaults(t *testing.T) {
	c := Default()
	if c.Limits.MaxConnections != DefaultMaxConnections || c.Limits.MaxConnectionsPerClient != DefaultMaxConnectionsPerClient ||
		c.Limits.SpoolAboveBytes != DefaultSpoolAboveBytes || c.Limits.MinFreeBytes != DefaultMinFreeBytes {
		t.Errorf("limits = %+v", c.Limits)
	}
	if c.Relay.AuthMaxFailures != 5 || c.Relay.AuthWindow != 15*time.Minute || c.Admin.SessionIdle != 30*time.Minute || c.Admin.SessionMax != 12*time.Hour {
		t.Errorf("relay %+v admin %+v", c.Relay, c.Admin)
	}
}

func TestLimitsParse(t *testing.T) {
	in := "limits:\n  max_connections: 50\n  max_connections_per_client: 5\n  spool_above_bytes: 65536\n  min_free_bytes: 0\n" +
		"relay:\n  auth_max_failures: 3\n  auth_window: 1h\nadmin:\n  session_idle: 10m\n  session_max: 2h\n"
	c, err := Parse([]byte(in), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxConnections: 50, MaxConnectionsPerClient: 5, SpoolAboveBytes: 65536, MinFreeBytes: 0}
	if c.Limits != want || c.Relay.AuthMaxFailures != 3 || c.Relay.AuthWindow != time.Hour || c.Admin.SessionIdle != 10*time.Minute || c.Admin.SessionMax != 2*time.Hour {
		t.Errorf("got %+v relay %+v admin %+v", c.Limits, c.Relay, c.Admin)
	}
}

func TestLimitsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"limits:\n  max_connections: 0\n":                 "rg.yaml:2: limits.max_connections: want a whole number from 1",
		"limits:\n  spool_above_bytes: 10\n":              "rg.yaml:2: limits.spool_above_bytes: want a whole number from 4096",
		"limits:\n  max_conections: 10\n":                 "rg.yaml:2",
		"relay:\n  auth_window: 5s\n":                     "rg.yaml:2: relay.auth_window: want a duration",
		"admin:\n  session_idle: 3h\n  session_max: 1h\n": "rg.yaml:3: admin.session_idle is longer than admin.session_max",
	} {
		_, err := Parse([]byte(in), "rg.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}
