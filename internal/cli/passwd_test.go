package cli

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/config"
)

func TestPasswdMakesAHashTheConfigAccepts(t *testing.T) {
	r := run(t, strings.NewReader("correct horse battery\n"), "passwd")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	hash := strings.TrimSpace(r.stdout)
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery")); err != nil {
		t.Fatalf("hash %q does not match the password: %v", hash, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse battery\n")) == nil {
		t.Fatal("the line end became part of the password")
	}
	if _, err := config.Parse([]byte("admin:\n  users:\n    root: \""+hash+"\"\n"), "rg.yaml"); err != nil {
		t.Fatalf("the config refuses the hash: %v", err)
	}
}

func TestPasswdRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		in   string
		args []string
		want string
	}{
		{"", nil, "no password"},
		{"short\n", nil, "shorter than 8"},
		{strings.Repeat("x", 73) + "\n", nil, "longer than 72"},
		{"long enough\n", []string{"secret"}, "takes no arguments"},
	} {
		r := run(t, strings.NewReader(tc.in), append([]string{"passwd"}, tc.args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%q %v: exit %d stdout %q stderr %q", tc.in, tc.args, r.code, r.stdout, r.stderr)
		}
	}
}
