package ratelimit

import (
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestLimitPerClientAndUser(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l := New(2, 10*time.Minute, nil)
	for i := range 2 {
		if _, ok := l.Begin("198.51.100.1", "alice", now.Add(time.Duration(i)*time.Second)); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	wait, ok := l.Begin("198.51.100.1", "bob", now.Add(time.Minute))
	if ok || wait != 9*time.Minute {
		t.Errorf("same client: ok %v wait %v, want refused for 9m", ok, wait)
	}
	if _, ok := l.Begin("198.51.100.2", "alice", now.Add(time.Minute)); ok {
		t.Error("same user from another client allowed")
	}
	if _, ok := l.Begin("198.51.100.2", "bob", now.Add(time.Minute)); !ok {
		t.Error("another client and user refused")
	}
	if _, ok := l.Begin("198.51.100.1", "alice", now.Add(10*time.Minute+time.Second)); !ok {
		t.Error("refused after the window")
	}
}

func TestSucceededForgives(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l := New(1, time.Hour, nil)
	l.Begin("c", "u", now)
	l.Succeeded("c", "u", now)
	if _, ok := l.Begin("c", "u", now.Add(time.Second)); !ok {
		t.Error("a success was counted as a failure")
	}
}

func TestBoundedMemory(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l := New(3, time.Hour, func(u string) bool { return u == "alice" })
	for range 5 {
		l.Begin("c0", "alice", now)
	}
	for i := range MaxKeys + 100 {
		l.Begin("c"+strconv.Itoa(i), "u"+strconv.Itoa(i), now)
	}
	if len(l.byIP) > MaxKeys || len(l.byUser) > MaxKeys {
		t.Errorf("maps grew to %d and %d keys", len(l.byIP), len(l.byUser))
	}
	if len(l.byIP["c0"]) > 3 {
		t.Errorf("a key keeps %d times", len(l.byIP["c0"]))
	}
	if _, ok := l.Begin("other", "alice", now); ok {
		t.Error("the known user's count was dropped")
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":             "192.0.2.7",
		"::ffff:192.0.2.7":      "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":  "2001:db8:1:2::/64",
		"fe80::1%eth0":          "fe80::/64",
		"not an address at all": "not an address at all",
	} {
		if got := ClientKeyOf(in); got != want {
			t.Errorf("ClientKeyOf(%q) = %q, want %q", in, got, want)
		}
	}
	if got := ClientKey(netip.Addr{}); got != "unknown" {
		t.Errorf("invalid: %q", got)
	}
	if got := UserKey("Alice"); got != "alice" {
		t.Errorf("UserKey = %q", got)
	}
}
