package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/scan"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestScanRealPostfixLog sends mail through a real Postfix to lookalikes (one accepted by
// the remote server, one refused, one that cannot be reached) and to legitimate domains,
// through an alias too, then runs `rcptguard scan --format json` on the log Postfix wrote
// and checks every count and outcome of the report.
func TestScanRealPostfixLog(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	relay := testenv.StartSink(t)
	refusing := testenv.StartSink(t)
	refusing.SetFailAt(testenv.StageRcpt, 550, "5.1.1 no such user here")
	closed := testenv.FreePort(t)
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost: relay.Addr(),
		ExtraMain: []string{
			"virtual_alias_maps = inline:{ {travel@corp.test = carol@gmial.com} }",
			fmt.Sprintf("transport_maps = inline:{ {gmai.com = smtp:%s}, {outlok.com = smtp:[127.0.0.1]:%d} }", testenv.NextHop(t, refusing.Addr()), closed),
		},
	})
	msg := []byte("From: someone@corp.test\r\nSubject: figures\r\n\r\nhello\r\n")
	send := func(from string, rcpts ...string) string {
		t.Helper()
		res, err := testenv.SMTPSend(pf.SMTPAddr(), from, rcpts, msg)
		if err != nil || !res.Delivered() || len(res.Accepted()) != len(rcpts) {
			t.Fatalf("send from %s: %+v, %v", from, res, err)
		}
		return res.QueueID()
	}
	send("alice@corp.test", "bob@gmial.com", "carol@gmail.com", "travel@corp.test") // lookalike twice (once by the alias), sent
	send("alice@corp.test", "x@gmai.com")                                           // refused: bounced, and a notice to alice
	deferred := send("dave@corp.test", "y@outlok.com")                              // nobody listens: deferred
	send("erin@corp.test", "z@gmial.com", "w@example.org")
	testenv.WaitFor(t, "the deferral and the other deliveries", func() bool {
		q, err := pf.Queue()
		return err == nil && len(q) == 1 && q[0].QueueID == deferred && strings.Contains(pf.Log(), deferred+": to=<y@outlok.com>")
	})
	if err := pf.WaitLog(ctx, "sender non-delivery notification"); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitLog(ctx, "to=<alice@corp.test>"); err != nil { // the bounce notice delivered
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(cfg, []byte("own_domains: [corp.test]\nprotect: [corp.test]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "scan", "--config", cfg, "--format", "json", "--progress", "never", filepath.Join(pf.Dir(), "log", "maillog"))
	if r.code != ExitFlagged || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	// Five messages (the bounce notice is one), eight recipients; four messages and five
	// recipients to three lookalikes; three of those recipients left the organisation.
	if tot.Messages != 5 || tot.Records != 8 || tot.FlaggedMessages != 4 || tot.FlaggedRecords != 5 ||
		tot.FlaggedDomains != 3 || tot.LeftOrg != 3 || rep.Problems.Total != 0 {
		t.Errorf("totals %+v, problems %+v\n--- maillog ---\n%s", tot, rep.Problems, pf.Log())
	}
	type row struct {
		messages, records int64
		senders           int
		intended          string
		outcomes          scan.Outcomes
	}
	want := map[string]row{
		"gmial.com":  {2, 3, 2, "gmail.com", scan.Outcomes{Sent: 3}},
		"gmai.com":   {1, 1, 1, "gmail.com", scan.Outcomes{Bounced: 1}},
		"outlok.com": {1, 1, 1, "outlook.com", scan.Outcomes{Deferred: 1}},
	}
	for _, d := range rep.Domains {
		w, ok := want[d.Domain]
		if !ok {
			t.Errorf("flagged %s, which is not a lookalike", d.Domain)
			continue
		}
		delete(want, d.Domain)
		got := row{d.Messages, d.Records, d.Senders, strings.Join(d.Intended, ","), d.Outcomes}
		if got != w || d.Verdict != "hold" || d.FirstSeen == nil || d.Reason == "" {
			t.Errorf("%s: %+v (verdict %s), want %+v", d.Domain, got, d.Verdict, w)
		}
	}
	for d := range want {
		t.Errorf("%s is not in the report", d)
	}
	senders := map[string]scan.SenderRow{}
	for _, s := range rep.Senders {
		senders[s.Sender] = s
	}
	for who, w := range map[string][2]int64{"alice@corp.test": {2, 2}, "dave@corp.test": {1, 1}, "erin@corp.test": {1, 1}} {
		if s := senders[who]; s.Messages != w[0] || int64(s.Domains) != w[1] {
			t.Errorf("sender %s: %+v, want %d messages to %d domains", who, s, w[0], w[1])
		}
	}
	if len(senders) != 3 {
		t.Errorf("senders %+v, want alice, dave and erin", rep.Senders)
	}
	if p := rep.Prediction.Total; p.Hold != 4 || p.Warn != 0 || p.Reject != 0 {
		t.Errorf("prediction %+v, want 4 held", p)
	}
}
