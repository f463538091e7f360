package held

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/smtpout"
)

// TestSettingsReadTheDestinations: the re-injection and the notices get their TLS mode
// and the password from its file; a file that cannot be read is an error naming the
// setting, and the other settings are still there.
func TestSettingsReadTheDestinations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rcptguard.yaml")
	cfg := "quarantine:\n  reinject:\n    address: smtp.example.net:587\n    tls: required\n" +
		"    auth: {username: rg, password_file: pw}\nnotice:\n  from: rg@example.org\n  hostname: rg.example.org\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := SettingsFrom(c)
	if err == nil || !strings.Contains(err.Error(), "quarantine.reinject: auth.password_file") || st.From != "rg@example.org" {
		t.Fatalf("without the password file: %v, from %q", err, st.From)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = SettingsFrom(c); err != nil {
		t.Fatal(err)
	}
	if r := st.Reinject; r.Address != "smtp.example.net:587" || r.TLS != smtpout.TLSRequired || r.Username != "rg" || r.Password != "s3cret" {
		t.Errorf("reinject %+v", r)
	}
	// Notices follow the re-injection, with its AUTH, and say the notice hostname.
	if n := st.Notifier.Smarthost; n.Password != "s3cret" || n.TLS != smtpout.TLSRequired || n.Hostname != "rg.example.org" {
		t.Errorf("notices %+v", n)
	}
}
