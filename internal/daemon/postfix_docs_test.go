package daemon

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// mainCFBlocks reads the ```main.cf blocks of docs/postfix.md, with continuation lines
// joined, so that each entry is one "name = value" setting.
func mainCFBlocks(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "postfix.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	var cur []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```main.cf"):
			in, cur = true, nil
		case in && strings.HasPrefix(line, "```"):
			in = false
			blocks = append(blocks, cur)
		case in && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(cur) > 0:
			cur[len(cur)-1] += " " + strings.TrimSpace(line)
		case in && strings.TrimSpace(line) != "":
			cur = append(cur, line)
		}
	}
	if len(blocks) < 2 {
		t.Fatalf("found %d main.cf blocks in docs/postfix.md, want the policy service and the milter", len(blocks))
	}
	return blocks
}

// TestPostfixDocsSettingsWork starts a real Postfix with each main.cf block of
// docs/postfix.md in front of `rcptguard serve`: mail to army.mil is delivered, mail to
// army.ml is refused with the explanation, and nothing of it reaches the next hop.
func TestPostfixDocsSettingsWork(t *testing.T) {
	testenv.RequirePostfix(t)
	for i, block := range mainCFBlocks(t) {
		t.Run(fmt.Sprint("block", i+1), func(t *testing.T) {
			cfg := "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: 127.0.0.1:0\n  milter: 127.0.0.1:0\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n"
			d, _ := startDaemon(t, cfg)
			var lines []string
			for _, l := range block {
				l = strings.ReplaceAll(l, "127.0.0.1:10040", d.Addr("policy"))
				l = strings.ReplaceAll(l, "127.0.0.1:10041", d.Addr("milter"))
				lines = append(lines, l)
			}
			sink := testenv.StartSink(t)
			pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: lines})

			msg := []byte("From: a@contoso.com\r\nTo: alice@army.mil\r\nSubject: test\r\n\r\nhello\r\n")
			res, err := testenv.SMTPSend(pf.SMTPAddr(), "a@contoso.com", []string{"alice@army.mil"}, msg)
			if err != nil || !res.Delivered() {
				t.Fatalf("army.mil: %+v %v\n%s", res, err, pf.Log())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := sink.WaitFor(ctx, 1); err != nil {
				t.Fatalf("army.mil not delivered: %v\n%s", err, pf.Log())
			}

			bad := []byte("From: a@contoso.com\r\nTo: alice@army.ml\r\nSubject: test\r\n\r\nsecret\r\n")
			res, err = testenv.SMTPSend(pf.SMTPAddr(), "a@contoso.com", []string{"alice@army.ml"}, bad)
			if err != nil {
				t.Fatal(err)
			}
			if res.Delivered() {
				t.Fatalf("army.ml accepted: %+v", res)
			}
			text := res.Data.Text
			if r, ok := res.Rcpt("alice@army.ml"); ok && !r.OK() {
				text = r.Text
			}
			if !strings.Contains(text, "Did you mean army.mil?") {
				t.Fatalf("army.ml refused without the explanation: %+v", res)
			}
			if err := pf.WaitQueueEmpty(ctx); err != nil {
				t.Fatalf("queue: %v", err)
			}
			if n := len(sink.Messages()); n != 1 {
				t.Fatalf("%d messages reached the next hop, want only the one to army.mil", n)
			}
		})
	}
}
