package smtpout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := testenv.SelfSigned(t)
	d, err := Load("relay.upstream", config.Destination{Address: "smtp.example.net:587", TLS: "required", CAFile: cert.File,
		ServerName: "mx.example.net", Username: "u", PasswordFile: write("pw", "s3cret\nignored\n")}, "rg.test")
	if err != nil {
		t.Fatal(err)
	}
	if d.Password != "s3cret" || d.RootCAs == nil || d.TLS != TLSRequired || d.Hostname != "rg.test" || d.ServerName != "mx.example.net" {
		t.Errorf("loaded %+v", d)
	}
	for _, c := range []struct {
		d    config.Destination
		want string
	}{
		{config.Destination{Address: "a:25", Username: "u", PasswordFile: filepath.Join(dir, "missing")}, "relay.upstream: auth.password_file: open"},
		{config.Destination{Address: "a:25", Username: "u", PasswordFile: write("empty", "\n")}, "empty"},
		{config.Destination{Address: "a:25", TLS: "required", CAFile: write("ca", "not a certificate")}, "no PEM certificate"},
		{config.Destination{Address: "a:25", Username: "u", PasswordFile: dir}, "not a regular file"},
	} {
		if _, err := Load("relay.upstream", c.d, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.d, err, c.want)
		}
	}
	if d, err := Load("notice.smarthost", config.Destination{}, "h"); err != nil || d.Address != "" {
		t.Errorf("no destination: %+v %v", d, err)
	}
}
