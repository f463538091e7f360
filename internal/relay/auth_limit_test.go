package relay

import (
	"bufio"
	"encoding/base64"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// dialFrom is dial from the local address local (127.0.0.2 is another client to the
// relay: Linux answers the whole of 127/8 on loopback).
func dialFrom(t testing.TB, addr, local string) *conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	cc := &conn{t: t, Conn: c, r: bufio.NewReader(c)}
	if got := cc.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting %q", got)
	}
	return cc
}

func plain(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
}

// TestAuthLimitAcrossConnections: wrong passwords over new connections count per client
// address and per user; at the limit even the right password gets 454 4.7.0, from that
// address and for that user, until the window has passed.
func TestAuthLimitAcrossConnections(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	var logs testenv.SyncBuffer
	var bad, limited atomic.Int32
	r := startRelay(t, func(s *Server) {
		s.AllowedNetworks = notLoopback
		s.Users = map[string]string{"alice": hash(t, "correct horse"), "bob": hash(t, "battery staple")}
		s.AllowInsecureAuth = true
		s.AuthMaxFailures = 3
		s.AuthWindow = 15 * time.Minute
		s.Now = clock.Now
		s.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		s.AuthFailed = func(reason string) {
			switch reason {
			case AuthBadCredentials:
				bad.Add(1)
			case AuthLimited:
				limited.Add(1)
			default:
				t.Errorf("AuthFailed(%q)", reason)
			}
		}
	})
	auth := func(local, user, password, want string) {
		t.Helper()
		c := dialFrom(t, r.addr, local)
		c.expect("250", "EHLO client.test")
		c.expect(want, "AUTH PLAIN %s", plain(user, password))
		c.Close()
	}
	for i := range 3 {
		auth("127.0.0.1", "alice", "wrong-"+string(rune('a'+i)), "535 5.7.8")
		clock.Advance(time.Second)
	}
	// The client and the user are limited now: the right password does not help.
	auth("127.0.0.1", "alice", "correct horse", "454 4.7.0")
	auth("127.0.0.1", "bob", "battery staple", "454 4.7.0")  // same client, other user
	auth("127.0.0.2", "alice", "correct horse", "454 4.7.0") // other client, same user
	// Another client and another user are not concerned.
	auth("127.0.0.2", "bob", "battery staple", "235 2.0.0")

	if got := bad.Load(); got != 3 {
		t.Errorf("bad_credentials = %d, want 3", got)
	}
	if got := limited.Load(); got != 3 {
		t.Errorf("limited = %d, want 3", got)
	}
	out := logs.String()
	if n := strings.Count(out, `msg="relay: AUTH failed"`); n != 3 {
		t.Errorf("%d failure lines, want 3:\n%s", n, out)
	}
	if n := strings.Count(out, `msg="relay: AUTH failed" adapter=relay client=127.0.0.1 user=alice`); n != 3 {
		t.Errorf("failure lines without client and user:\n%s", out)
	}
	if n := strings.Count(out, `msg="relay: AUTH refused: too many failures"`); n != 3 {
		t.Errorf("%d limited lines, want 3:\n%s", n, out)
	}
	for _, secret := range []string{"wrong-", "correct horse", "battery staple"} {
		if strings.Contains(out, secret) {
			t.Errorf("a password is in the log:\n%s", out)
		}
	}

	// Once the window has passed since the failures, alice may sign in again.
	clock.Advance(15 * time.Minute)
	auth("127.0.0.1", "alice", "correct horse", "235 2.0.0")
}
