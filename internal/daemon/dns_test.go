package daemon

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// Live evidence through the HTTP door: off by default (DNS never asked), on after a reload
// with dns.evidence, the resolver kept across reloads while dns.resolver stays, counted in
// the metrics; SetEvidence applies at once and survives a reload.
func TestDNSEvidenceAppliesOnReload(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: "gmail.com. 300 IN MX 10 mx.gmail.com.\n"})
	base := "protect: [contoso.com]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n"
	d, path := startDaemon(t, base)
	check := func(rcpt string) string { return apiCheck(t, d, rcpt) }
	if got := check("bob@contoso.co"); !strings.Contains(got, `"verdict":"hold"`) || strings.Contains(got, "delivered") || srv.Queries() != 0 {
		t.Fatalf("dns.evidence off: %s (queries %d)", got, srv.Queries())
	}
	reload := func(extra string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(base+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	on := "dns:\n  evidence: true\n  resolver: " + srv.Addr() + "\n  budget: 500ms\npolicy:\n  undeliverable: reject\n"
	reload(on)
	if got := check("bob@contoso.co"); !strings.Contains(got, `"verdict":"reject"`) || !strings.Contains(got, "contoso.co does not exist: the mail cannot be delivered.") {
		t.Fatalf("after reload with dns.evidence: %s", got)
	}
	metrics := getBody(t, "http://"+d.Addr("http")+"/metrics")
	for _, want := range []string{`rcptguard_dns_evidence_lookups_total{result="answered"} 1`, `rcptguard_dns_evidence_lookups_total{result="timeout"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	first := d.liveDNS
	reload(strings.Replace(on, "500ms", "400ms", 1))
	if d.liveDNS != first || d.Guard.Load().Policy().Undeliverable != guard.Reject {
		t.Error("a reload that kept dns.resolver made a new resolver (and lost the cache)")
	}
	reload(strings.Replace(on, srv.Addr(), srv.Addr()+"\n  cache_size: 5", 1))
	if d.liveDNS == first || d.liveDNS.cacheSize != 5 {
		t.Error("a new dns.cache_size did not make a new cache")
	}

	var ev guard.Evidence
	ev.AddChangedOwner("gmail.com", guard.Change{CameBack: true})
	d.SetEvidence(ev)
	want := "gmail.com stopped existing and was registered again; it may have changed hands."
	if got := check("x@gmail.com"); !strings.Contains(got, `"verdict":"warn"`) || !strings.Contains(got, want) {
		t.Fatalf("after SetEvidence: %s", got)
	}
	reload("")
	if got := check("x@gmail.com"); !strings.Contains(got, want) {
		t.Errorf("the evidence was lost on reload: %s", got)
	}
	if got := check("bob@contoso.co"); !strings.Contains(got, `"verdict":"hold"`) || strings.Contains(got, "does not exist") {
		t.Errorf("dns.evidence turned off by reload: %s", got)
	}
}

// apiCheck asks the daemon's HTTP API about one recipient and returns the answer's body.
func apiCheck(t *testing.T, d *Daemon, rcpt string) string {
	t.Helper()
	resp, err := http.Post("http://"+d.Addr("http")+"/api/v1/check", "application/json", strings.NewReader(`{"recipients":["`+rcpt+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
