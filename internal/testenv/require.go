package testenv

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"testing"
)

// Paths of the Postfix programs that the helpers run (Debian layout).
const (
	postfixCmd   = "/usr/sbin/postfix"
	sendmailCmd  = "/usr/sbin/sendmail"
	postqueueCmd = "/usr/sbin/postqueue"
	masterCmd    = "/usr/lib/postfix/sbin/master"
	commandDir   = "/usr/sbin"
)

const installHint = "run scripts/install-test-deps.sh as root"

// strict reports whether missing test dependencies must fail the test
// instead of skipping it: in CI (CI set and not "false"/"0") or when
// RCPTGUARD_REQUIRE_POSTFIX=1.
func strict() bool {
	if os.Getenv("RCPTGUARD_REQUIRE_POSTFIX") == "1" {
		return true
	}
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

func skipOrFatal(t testing.TB, msg string) {
	t.Helper()
	if strict() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// RequireRoot skips the test unless it runs as root (Postfix refuses to run
// for other users), or fails it in CI or with RCPTGUARD_REQUIRE_POSTFIX=1.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFatal(t, "testenv: this test needs root: a private Postfix runs only as root "+
			"(as a plain user try `unshare --map-root-user --map-auto`); "+
			"scripts/install-test-deps.sh installs what the tests need")
	}
}

// RequirePostfix skips the test unless it runs as root and Postfix is
// installed, or fails it in CI or with RCPTGUARD_REQUIRE_POSTFIX=1.
func RequirePostfix(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	for _, p := range []string{postfixCmd, sendmailCmd, postqueueCmd, masterCmd} {
		if _, err := os.Stat(p); err != nil {
			skipOrFatal(t, "testenv: Postfix is not installed ("+p+" is missing); "+installHint)
		}
	}
	if _, err := user.Lookup("postfix"); err != nil {
		skipOrFatal(t, "testenv: Postfix is not installed (no user postfix); "+installHint)
	}
}

// RequireTool skips the test unless the program name is on PATH (swaks, for example), or
// fails it in CI or with RCPTGUARD_REQUIRE_POSTFIX=1.
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		skipOrFatal(t, "testenv: "+name+" is not installed; "+installHint)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free when asked. Another
// process may still take it before the caller binds it.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
