package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/metrics"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/setup"
)

func newAPI(t *testing.T) (*API, *httptest.Server) {
	t.Helper()
	cfg := config.Default()
	var err error
	if cfg.Protect, err = config.ParseList("army.mil,.mil"); err != nil {
		t.Fatal(err)
	}
	g, err := setup.Guard(cfg, setup.Extra{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a := &API{Guard: &guard.Current{}, Registry: reg, Metrics: metrics.New(reg)}
	a.Guard.Store(g)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv
}

type checkResponse struct {
	Verdict    string `json:"verdict"`
	Recipients []struct {
		Input    string   `json:"input"`
		Domain   string   `json:"domain"`
		Verdict  string   `json:"verdict"`
		Intended []string `json:"intended"`
		Reason   string   `json:"reason"`
		Error    string   `json:"error"`
	} `json:"recipients"`
	Error string `json:"error"`
}

func post(t *testing.T, url, body string) (int, checkResponse) {
	t.Helper()
	resp, err := http.Post(url+"/api/v1/check", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out checkResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return resp.StatusCode, out
}

func TestCheckAnswersPerRecipientWithTheDecision(t *testing.T) {
	_, srv := newAPI(t)
	code, out := post(t, srv.URL, `{"recipients":["alice@army.ml","bob@army.mil","army..mil"]}`)
	if code != 200 || out.Verdict != "invalid" || len(out.Recipients) != 3 {
		t.Fatalf("%d %+v", code, out)
	}
	r := out.Recipients[0]
	if r.Verdict != "hold" || r.Domain != "army.ml" || len(r.Intended) == 0 || r.Intended[0] != "army.mil" || !strings.Contains(r.Reason, "Did you mean army.mil?") {
		t.Errorf("army.ml: %+v", r)
	}
	if out.Recipients[1].Verdict != "allow" {
		t.Errorf("army.mil: %+v", out.Recipients[1])
	}
	if out.Recipients[2].Verdict != "invalid" || out.Recipients[2].Error == "" {
		t.Errorf("army..mil: %+v", out.Recipients[2])
	}
	code, out = post(t, srv.URL, `{"recipient":"gmial.com"}`)
	if code != 200 || out.Verdict != "hold" {
		t.Errorf("single recipient: %d %+v", code, out)
	}
}

func TestCheckRefusesBadRequestsClearly(t *testing.T) {
	_, srv := newAPI(t)
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"recipients":[]}`, 400, "no recipients"},
		{`not json`, 400, "not valid JSON"},
		{`{"recipients":["a"],"extra":1}`, 400, "unknown field"},
		{`{"recipients":["a"]} {}`, 400, "after the JSON"},
		{`{"recipients":["` + strings.Repeat("a", MaxBodyBytes) + `"]}`, 413, "larger than"},
	} {
		code, out := post(t, srv.URL, c.body)
		if code != c.code || !strings.Contains(out.Error, c.want) {
			t.Errorf("%.40q: %d %q, want %d %q", c.body, code, out.Error, c.code, c.want)
		}
	}
	resp, err := http.Get(srv.URL + "/api/v1/check")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	a, srv := newAPI(t)
	post(t, srv.URL, `{"recipients":["alice@army.ml"]}`)
	body := get(t, srv.URL+"/metrics", 200)
	for _, want := range []string{
		`rcptguard_guard_decisions_total{adapter="http",monitor="false",technique="suffix-typo",verdict="hold"} 1`,
		`rcptguard_guard_decisions_total{adapter="policy",monitor="false",technique="none",verdict="allow"} 0`,
		`rcptguard_guard_decision_duration_seconds_count{adapter="http"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if get(t, srv.URL+"/healthz", 200) != "ok\n" {
		t.Error("healthz")
	}
	a.Guard.Store(nil)
	get(t, srv.URL+"/healthz", 503)
	if code, _ := post(t, srv.URL, `{"recipients":["x@y.com"]}`); code != 503 {
		t.Errorf("without a guard: %d", code)
	}
}

func get(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s: %d, want %d", url, resp.StatusCode, want)
	}
	return string(b)
}

// TestHealthAsksTheQuarantine: /healthz is 200 while the quarantine's database answers and
// 503, naming the problem, once it does not.
func TestHealthAsksTheQuarantine(t *testing.T) {
	a, srv := newAPI(t)
	store, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	a.Ready = store.Health
	if get(t, srv.URL+"/healthz", 200) != "ok\n" {
		t.Error("healthz with a working store")
	}
	store.Close()
	if body := get(t, srv.URL+"/healthz", 503); !strings.Contains(body, "quarantine") {
		t.Errorf("healthz with a closed store: %q", body)
	}
}
