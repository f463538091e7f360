package daemon

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAppliesContentRulesToAnHTTPCheck: with content.enabled, the daemon's HTTP API
// classifies the message a check request carries (a warned lookalike with a password is
// held); without it, the answer says that content rules are off.
func TestServeAppliesContentRulesToAnHTTPCheck(t *testing.T) {
	const body = `{"recipients":["bob@раypal.com"],"message":"Subject: access\r\n\r\nPassword: Tr0ub4dor&3x\r\n"}`
	for _, c := range []struct {
		enabled bool
		want    []string
	}{
		{true, []string{`{"verdict":"hold"`, `"content_checked":true,"content":["credentials"]`}},
		{false, []string{`{"verdict":"warn"`, `"content_checked":false`, "content rules are off"}},
	} {
		path := filepath.Join(t.TempDir(), "rcptguard.yaml")
		writeConfig(t, path, "army.mil")
		if c.enabled {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("content:\n  enabled: true\n")
			f.Close()
		}
		d := &Daemon{ConfigPath: path}
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post("http://"+d.Addr("http")+"/api/v1/check", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The content counter names the category, for the door that read it.
		mresp, err := http.Get("http://" + d.Addr("http") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := io.ReadAll(mresp.Body)
		mresp.Body.Close()
		d.Shutdown(context.Background())
		wantMetric := `rcptguard_content_messages_total{category="credentials",door="http"} 0`
		if c.enabled {
			wantMetric = `rcptguard_content_messages_total{category="credentials",door="http"} 1`
		}
		if !strings.Contains(string(mb), wantMetric+"\n") || !strings.Contains(string(mb), `rcptguard_content_messages_total{category="skipped",door="milter"} 0`) {
			t.Errorf("content.enabled %v: /metrics lacks %s", c.enabled, wantMetric)
		}
		for _, w := range c.want {
			if resp.StatusCode != 200 || !strings.Contains(string(b), w) {
				t.Errorf("content.enabled %v: %d %s\nwant %s", c.enabled, resp.StatusCode, b, w)
			}
		}
	}
}
