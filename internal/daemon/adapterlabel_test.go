package daemon

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestEachLogLineNamesItsAdapterOnce: the decision lines of the policy service and of the
// relay carry one adapter attribute each, the adapter's own name (the daemon used to add a
// second copy: "adapter=policy adapter=policy").
func TestEachLogLineNamesItsAdapterOnce(t *testing.T) {
	sink := testenv.StartSink(t)
	dir := t.TempDir()
	cfg := "protect: [army.mil]\ndata_dir: data\nlisten:\n  policy: 127.0.0.1:0\n  milter: off\n  http: off\n  web: off\n" +
		"  intake: off\n  relay: 127.0.0.1:0\nrelay:\n  upstream: " + sink.Addr() + "\n"
	path := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	d := &Daemon{ConfigPath: path, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	if a := testenv.DialPolicy(t, d.Addr("policy")).Ask("protocol_state=RCPT\ninstance=i.1\nsender=a@contoso.com\nrecipient=b@army.ml\n"); a == "" {
		t.Fatal("no answer from the policy service")
	}
	msg := []byte("From: a@contoso.com\r\nSubject: x\r\n\r\nhi\r\n")
	if res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"b@army.ml"}, msg); err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if n := strings.Count(line, `"adapter":`); n > 1 {
			t.Errorf("adapter named %d times: %s", n, line)
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			if a, ok := rec["adapter"].(string); ok && strings.Contains(line, "army.ml") {
				seen[a] = true
			}
		}
	}
	for _, a := range []string{"policy", "relay"} {
		if !seen[a] {
			t.Errorf("no decision line of the %s adapter:\n%s", a, logs.String())
		}
	}
}
