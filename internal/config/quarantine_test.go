package config

import (
	"strings"
	"testing"
	"time"
)

func TestQuarantineKeys(t *testing.T) {
	in := `
listen:
  web: 127.0.0.1:9026
  intake: off
relay:
  upstream: 127.0.0.1:2525
quarantine:
  expire_after: 7d
  on_expiry: return
  purge_after: 36h
  always_ask: [.ml, example.ml]
  max_message_bytes: 2048
notice:
  from: rcptguard@example.org
  base_url: https://rcptguard.example.org/
  org: Example
admin:
  users:
    root: "$2a$10$abcdefghijklmnopqrstuv"
  secure_cookies: true
`
	c, err := Parse([]byte(in), "/etc/rcptguard/rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	q := c.Quarantine
	if q.ExpireAfter != 7*24*time.Hour || q.OnExpiry != "return" || q.PurgeAfter != 36*time.Hour || q.MaxMessageBytes != 2048 ||
		len(q.AlwaysAsk) != 2 || !q.AlwaysAsk[0].Namespace || q.AlwaysAsk[1].Name != "example.ml" {
		t.Errorf("quarantine %+v", q)
	}
	if c.Listen.Web != "127.0.0.1:9026" || c.Listen.Intake != "" {
		t.Errorf("listen %+v", c.Listen)
	}
	if c.ReinjectAddr() != "127.0.0.1:2525" || c.NoticeSmarthost() != "127.0.0.1:2525" || c.WebBaseURL() != "https://rcptguard.example.org" {
		t.Errorf("derived %q %q %q", c.ReinjectAddr(), c.NoticeSmarthost(), c.WebBaseURL())
	}
	if c.Admin.Users["root"] == "" || !c.Admin.SecureCookies || c.Notice.Org != "Example" {
		t.Errorf("admin %+v notice %+v", c.Admin, c.Notice)
	}
}

func TestQuarantineErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"quarantine:\n  expire_after: 14 days\n", "2: quarantine.expire_after: want a duration"},
		{"quarantine:\n  expire_after: 10m\n", "2: quarantine.expire_after: want a duration from 1h0m0s"},
		{"quarantine:\n  on_expiry: bounce\n", "2: quarantine.on_expiry: want delete or return"},
		{"quarantine:\n  reinject: localhost\n", "2: quarantine.reinject: want host:port"},
		{"notice:\n  from: Alice <a@example.org>\n", "2: notice.from: want a plain address"},
		{"notice:\n  base_url: ftp://x\n", "2: notice.base_url: want http(s)://"},
		{"admin:\n  users:\n    root: secret\n", "3: admin.users: want user: bcrypt hash"},
		{"quarantine:\n  expire_afer: 1d\n", "expire_afer"},
	} {
		_, err := Parse([]byte(tc.in), "rg.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}
