package daemon

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func writeConfig(t *testing.T, path, protect string) {
	t.Helper()
	cfg := "protect: [" + protect + "]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestServeAnswersAndReloadSwapsTheGuard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rcptguard.yaml")
	writeConfig(t, path, "army.mil")
	d := &Daemon{ConfigPath: path}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	url := "http://" + d.Addr("http")
	if d.Addr("http") == "" || d.Addr("policy") != "" {
		t.Fatalf("listeners: http %q policy %q", d.Addr("http"), d.Addr("policy"))
	}
	verdict := func(rcpt string) string {
		resp, err := http.Post(url+"/api/v1/check", "application/json", strings.NewReader(`{"recipients":["`+rcpt+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if !strings.Contains(verdict("fabrikarn.com"), `"verdict":"allow"`) {
		t.Fatal("fabrikarn.com flagged before fabrikam.com is protected")
	}
	// A new config is picked up by a reload...
	writeConfig(t, path, "army.mil, fabrikam.com")
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(verdict("fabrikarn.com"), `"verdict":"hold"`) {
		t.Fatal("reload did not swap the guard")
	}
	// ...and a bad one is refused, the old guard stays.
	if err := os.WriteFile(path, []byte("protect: [army..mil]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err == nil {
		t.Fatal("a bad config was accepted")
	}
	if !strings.Contains(verdict("fabrikarn.com"), `"verdict":"hold"`) {
		t.Fatal("the old guard was lost after a refused reload")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("still listening after Shutdown")
	}
}

func TestStartFailsOnABadConfigOrABusyPort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("polcy: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (&Daemon{ConfigPath: path}).Start(); err == nil || !strings.Contains(err.Error(), "bad.yaml:1") {
		t.Fatalf("error %v", err)
	}
	first := &Daemon{ConfigPath: filepath.Join(t.TempDir(), "ok.yaml")}
	writeConfig(t, first.ConfigPath, "army.mil")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Shutdown(context.Background())
	busy := filepath.Join(t.TempDir(), "busy.yaml")
	cfg := "data_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: " + first.Addr("http") + "\n  web: off\n  intake: off\n"
	if err := os.WriteFile(busy, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (&Daemon{ConfigPath: busy}).Start(); err == nil || !strings.Contains(err.Error(), "listen http") {
		t.Fatalf("error %v", err)
	}
}

func TestServeRunsThePolicyServiceAndTheMilter(t *testing.T) {
	cfg := "protect: [army.mil, .mil]\npolicy:\n  protected: reject\ndata_dir: data\nlisten:\n  policy: 127.0.0.1:0\n  milter: 127.0.0.1:0\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n"
	d, path := startDaemon(t, cfg)
	if d.Addr("milter") == "" {
		t.Fatal("no milter listener")
	}
	conn, err := net.DialTimeout("tcp", d.Addr("policy"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "request=smtpd_access_policy\nprotocol_state=RCPT\ninstance=1.2\nsender=a@contoso.com\nrecipient=alice@army.ml\n\n")
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "action=550 5.7.1 Did you mean army.mil?") {
		t.Fatalf("policy answer %q", line)
	}
	if blank, _ := br.ReadString('\n'); blank != "\n" {
		t.Fatalf("the answer does not end with an empty line: %q", blank)
	}
	if body := getBody(t, "http://"+d.Addr("http")+"/metrics"); !strings.Contains(body, `rcptguard_listener_connections{listener="policy"} 1`) {
		t.Error("the open policy connection is not counted")
	}
	// A reload swaps the engine without dropping the connection: the next request on it
	// is answered by the new configuration (policy protected: hold, so DUNNO at RCPT).
	if err := os.WriteFile(path, []byte(strings.Replace(cfg, "protected: reject", "protected: hold", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "request=smtpd_access_policy\nprotocol_state=RCPT\ninstance=1.3\nsender=a@contoso.com\nrecipient=alice@army.ml\n\n")
	if line, err = br.ReadString('\n'); err != nil || line != "action=DUNNO\n" {
		t.Fatalf("after reload, on the same connection: %q %v", line, err)
	}
	body := getBody(t, "http://"+d.Addr("http")+"/metrics")
	if !strings.Contains(body, `rcptguard_guard_decisions_total{adapter="policy",monitor="false",technique="suffix-typo",verdict="reject"} 1`) {
		t.Error("the policy decision was not counted")
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestServeRunsTheRelayWhenAnUpstreamIsConfigured(t *testing.T) {
	sink := testenv.StartSink(t)
	cfg := "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n  relay: 127.0.0.1:0\nrelay:\n  upstream: " + sink.Addr() + "\n  hostname: relay.test\n"
	d, _ := startDaemon(t, cfg)
	msg := []byte("From: a@contoso.com\r\nTo: b@army.mil\r\nSubject: x\r\n\r\nhi\r\n")
	res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"b@army.mil", "c@army.ml"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	// army.ml is held: the whole message is stored in the quarantine, not relayed.
	if !res.Delivered() || !strings.Contains(res.Data.Text, "held as") {
		t.Fatalf("%+v", res)
	}
	if l, err := d.quarantine.List(context.Background(), quarantine.Filter{State: quarantine.Held}); err != nil || len(l) != 1 ||
		len(l[0].Recipients) != 2 || l[0].Recipients[1].Address != "c@army.ml" {
		t.Fatalf("quarantine: %+v %v", l, err)
	}
	res, err = testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"b@army.mil"}, msg)
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := sink.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Rcpts[0] != "b@army.mil" || !strings.Contains(got[0].Header("Received"), "relay.test") {
		t.Fatalf("sink got %+v", got)
	}
	body := getBody(t, "http://"+d.Addr("http")+"/metrics")
	if !strings.Contains(body, `rcptguard_guard_decisions_total{adapter="relay",monitor="false",technique="suffix-typo",verdict="hold"} 1`) {
		t.Error("the relay decision was not counted")
	}
}

// TestServeLearnsWhomTheOrganisationWritesTo: mail that passes is recorded in the history
// in the data folder, and the next engine knows the domain (a lookalike of it is flagged).
func TestServeLearnsWhomTheOrganisationWritesTo(t *testing.T) {
	sink := testenv.StartSink(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "rcptguard.yaml")
	cfg := "data_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n  relay: 127.0.0.1:0\nrelay:\n  upstream: " + sink.Addr() + "\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: path}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	msg := []byte("From: a@contoso.com\r\nSubject: x\r\n\r\nhi\r\n")
	for i := 0; i < 3; i++ {
		res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"b@wingtiptoys.com"}, msg)
		if err != nil || !res.Delivered() {
			t.Fatalf("%+v %v", res, err)
		}
	}
	if v := d.Guard.Load().Check("wingtiptoy.com").Verdict; v != guard.Allow {
		t.Fatalf("wingtiptoy.com is %s before anything was learned", v)
	}
	// The running daemon learns too: once the history has the domain (written within
	// flushEvery), a refresh swaps in an engine that knows it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, ok, err := d.history.Domain(context.Background(), "wingtiptoys.com")
		if err != nil {
			t.Fatal(err)
		}
		if ok && st.Count == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recorded in time: %+v %v", st, ok)
		}
		time.Sleep(50 * time.Millisecond) // polling the store, the condition itself
	}
	if err := d.refresh(); err != nil {
		t.Fatal(err)
	}
	if v := d.Guard.Load().Check("wingtiptoy.com").Verdict; v == guard.Allow {
		t.Fatal("the refreshed engine does not know wingtiptoys.com")
	}
	if err := d.Shutdown(context.Background()); err != nil { // writes what is queued
		t.Fatal(err)
	}
	d2 := &Daemon{ConfigPath: path}
	if err := d2.Start(); err != nil {
		t.Fatal(err)
	}
	defer d2.Shutdown(context.Background())
	dec := d2.Guard.Load().Check("wingtiptoy.com")
	if dec.Verdict == guard.Allow || len(dec.Findings) == 0 || dec.Findings[0].Intended != "wingtiptoys.com" {
		t.Fatalf("the learned wingtiptoys.com does not protect against wingtiptoy.com: %s %s", dec.Verdict, dec.Reason)
	}
	if !strings.Contains(dec.Reason, "3 messages went to wingtiptoys.com") {
		t.Errorf("reason %q", dec.Reason)
	}
}

// startDaemon writes cfg to a config file in a fresh folder, starts a daemon with it and
// stops it when the test ends. It returns the daemon and the config file's path.
func startDaemon(t *testing.T, cfg string) (*Daemon, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rcptguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: path}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	return d, path
}
