package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// squatDNS serves testdata/squat-zone.txt, with amy.mil and cntoso.com answered SERVFAIL.
func squatDNS(t *testing.T) *testenv.DNS {
	t.Helper()
	zone, err := os.ReadFile(filepath.Join("testdata", "squat-zone.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return testenv.StartDNS(t, testenv.DNSOptions{Zone: string(zone), ServFail: []string{"amy.mil", "cntoso.com"}})
}

func squatRun(t *testing.T, srv *testenv.DNS, args ...string) result {
	t.Helper()
	return run(t, nil, append([]string{"squat", "--config", filepath.Join("testdata", "squat.yaml"), "--resolver", srv.Addr()}, args...)...)
}

// The config's domains are looked up; what can receive mail makes exit 1, and the text
// says which lookalikes, the farm and what failed.
func TestSquatText(t *testing.T) {
	r := squatRun(t, squatDNS(t))
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{
		"6 registered lookalikes can receive mail",
		"Catch-all farm: farm.example receives the mail of 4 lookalikes.",
		"contoso.com  own domain", "army.mil     protected",
		"armyy.mil     army.mil     repetition    no (null MX)",
		"contoso.co    contoso.com  suffix-typo   no (no MX, no address)",
		"army.com      army.mil     suffix-swap   yes (address, no MX)",
		"farm.example  4           mx1.farm.example,mx2.farm.example",
		"cntoso.com (of contoso.com): ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stdout)
		}
	}
}

// A mail host named in dns.shared_mail_hosts is no farm: the lookalikes it receives mail
// for are listed, with no farm.
func TestSquatSharedMailHostIsNoFarm(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("testdata", "squat.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "squat.yaml")
	if err := os.WriteFile(cfg, append(base, "dns:\n  shared_mail_hosts: [farm.example]\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := squatDNS(t)
	r := run(t, nil, "squat", "--config", cfg, "--resolver", srv.Addr())
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	if !strings.Contains(r.stdout, "6 registered lookalikes can receive mail") || strings.Contains(r.stdout, "farm: farm.example") ||
		strings.Contains(r.stdout, "Catch-all farm") || !strings.Contains(r.stdout, "arny.mil") {
		t.Errorf("with farm.example shared:\n%s", r.stdout)
	}
}

// Every format, to a file with -o; the block list exported loads with `config check`.
func TestSquatFormatsAndExport(t *testing.T) {
	srv := squatDNS(t)
	dir := t.TempDir()
	for _, f := range []string{"json", "csv", "html"} {
		out := filepath.Join(dir, "squat."+f)
		args := []string{"--format", f, "-o", out}
		if f == "json" {
			args = append(args, "--export-block", filepath.Join(dir, "block.yaml"))
		}
		if r := squatRun(t, srv, args...); r.code != ExitFlagged || r.stderr != "" || r.stdout != "" {
			t.Fatalf("%s: exit %d, stderr %q, stdout %q", f, r.code, r.stderr, r.stdout)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		switch f {
		case "json":
			var doc struct {
				Schema   string `json:"schema"`
				Resolver string `json:"resolver"`
				Totals   struct {
					CanReceive int `json:"can_receive_mail"`
					Registered int `json:"registered"`
					Unknown    int `json:"unknown"`
				} `json:"totals"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Schema != "rcptguard-squat/1" || doc.Resolver != srv.Addr() || doc.Totals.CanReceive != 6 ||
				doc.Totals.Registered != 8 || doc.Totals.Unknown != 2 {
				t.Errorf("json %+v", doc)
			}
		case "csv":
			rows, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1+8 {
				t.Errorf("%d CSV rows, want a header and 8", len(rows))
			}
		case "html":
			if !strings.Contains(string(data), "Catch-all farms") || strings.Contains(string(data), "<script") {
				t.Errorf("html:\n%s", data)
			}
		}
	}
	block := filepath.Join(dir, "block.yaml")
	r := run(t, nil, "config", "check", block)
	if r.code != ExitOK {
		data, _ := os.ReadFile(block)
		t.Fatalf("config check of the export: exit %d, %s %s\n%s", r.code, r.stdout, r.stderr, data)
	}
	r = run(t, nil, "check", "--config", block, "bob@army.ml", "bob@armyy.mil")
	if got := lines(r.stdout); len(got) != 2 || !strings.Contains(got[0], "reject") || strings.Contains(got[1], "reject") {
		t.Errorf("checked with the export: %q", got)
	}
}

// Nothing registered that can receive mail: exit 0, and the report says so.
func TestSquatNothingFound(t *testing.T) {
	r := squatRun(t, squatDNS(t), "--progress", "always", "navy.mil")
	if r.code != ExitOK || !strings.Contains(r.stdout, "No registered lookalike can receive mail") {
		t.Fatalf("exit %d, stderr %q\n%s", r.code, r.stderr, r.stdout)
	}
	if !strings.Contains(r.stderr, " lookups (100%), ") || !strings.HasSuffix(r.stderr, ", done\n") {
		t.Errorf("progress %q", r.stderr)
	}
}

// An unreachable resolver is an error (exit 2) and no "all clear" report.
func TestSquatResolverUnreachable(t *testing.T) {
	dead := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	out := filepath.Join(t.TempDir(), "report.txt")
	r := run(t, nil, "squat", "--resolver", dead, "-o", out, "navy.mil")
	if r.code != ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, "no DNS lookup got an answer") ||
		!strings.Contains(r.stderr, "Is the resolver "+dead+" reachable?") {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a report file was left: %v", err)
	}
}

// --known-top adds the known correspondents with the most mail; bad flags are usage errors.
func TestSquatKnownTopAndFlags(t *testing.T) {
	srv := squatDNS(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "known.txt"), []byte("navy.mil 50\nexample.org 3\nnavy.mil 10\nbig.example 40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The history (data_dir/history.db, no daemon has it open) adds its counts.
	store, err := history.OpenSQLite(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Record(context.Background(), []history.Observation{{Domain: "example.org", At: time.Now(), Count: 55}}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("known_file: known.txt\ndata_dir: "+dir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "squat", "--config", cfg, "--resolver", srv.Addr(), "--known-top", "2", "--format", "json")
	var doc struct {
		Domains []struct{ Domain, Why string } `json:"domains"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
	}
	if got := fmt.Sprint(doc.Domains); got != "[{navy.mil known (60 messages)} {example.org known (58 messages)}]" {
		t.Errorf("domains %s", got)
	}
	for _, bad := range [][]string{{"--format", "xml"}, {"--concurrency", "0"}, {"--farm-min", "0"}, {"--progress", "often"}, {"--rate", "-1"}, {"bad..domain"}} {
		if r := squatRun(t, srv, bad...); r.code != ExitUsage || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}
