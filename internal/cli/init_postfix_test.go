package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/daemon"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestInitLinesRunOnARealPostfix: what `rcptguard init --postfix` writes and prints works
// on a real Postfix. A private instance with the printed main.cf and master.cf lines
// passes `postfix check` and starts; rcptguard serve runs with the written config; mail
// to an own domain goes out, mail to a lookalike of it is held and its sender's notice
// goes out through the printed re-injection service.
func TestInitLinesRunOnARealPostfix(t *testing.T) {
	testenv.RequirePostfix(t)
	table := filepath.Join(t.TempDir(), "virtual_domains")
	if err := os.WriteFile(table, []byte("tailspin.test x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	postfixMain := []string{
		"mydomain = contoso.test",
		"myorigin = $mydomain",
		"virtual_alias_domains = fabrikam.test, texthash:" + table,
		"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
	}
	pc := postfixConfigDir(t, "compatibility_level = 3.6\n"+strings.Join(postfixMain, "\n")+"\n")
	dir := t.TempDir()
	path := filepath.Join(dir, "rcptguard.yaml")
	r := run(t, nil, "init", "--postfix", "--postfix-config", pc, "--config", path)
	if r.code != ExitOK {
		t.Fatalf("init --postfix = %d\n%s", r.code, r.stderr)
	}
	mainCF, masterCF := printedBlocks(t, r.stdout)

	// The written config, on free ports and with its data in the test's folder.
	reinject := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(written) + "data_dir: data\n"
	for _, a := range []string{"127.0.0.1:10040", "127.0.0.1:10041", "127.0.0.1:8025", "127.0.0.1:8026", "127.0.0.1:10026"} {
		cfg = strings.Replace(cfg, " "+a+"\n", " 127.0.0.1:0\n", 1)
	}
	cfg = strings.Replace(cfg, "reinject: "+reinjectAddr+"\n", "reinject: "+reinject+"\n", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o640); err != nil {
		t.Fatal(err)
	}
	d := &daemon.Daemon{ConfigPath: path}
	if err := d.Start(); err != nil {
		t.Fatalf("serve with the config init wrote: %v\n%s", err, cfg)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	subst := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			l = strings.ReplaceAll(l, "127.0.0.1:10040", d.Addr("policy"))
			l = strings.ReplaceAll(l, "127.0.0.1:10041", d.Addr("milter"))
			out = append(out, strings.ReplaceAll(l, reinjectAddr, reinject))
		}
		return out
	}
	// The administrator replaces each setting the printed lines name.
	var kept []string
	for _, l := range postfixMain {
		name, _, _ := strings.Cut(l, " =")
		if !strings.Contains("\n"+strings.Join(mainCF, "\n"), "\n"+name+" =") {
			kept = append(kept, l)
		}
	}
	if len(kept) != len(postfixMain)-1 {
		t.Fatalf("the printed lines do not replace smtpd_recipient_restrictions: %q", mainCF)
	}
	sink := testenv.StartSink(t)
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost:   sink.Addr(),
		ExtraMain:   append(kept, subst(mainCF)...),
		ExtraMaster: subst(masterCF),
	})
	if out, err := pf.Command("postfix", "check").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("postfix check with the printed lines: %v %q\n%s", err, out, pf.Log())
	}
	if out, err := pf.Command("postconf", "-h", "smtpd_recipient_restrictions").Output(); err != nil ||
		!strings.HasPrefix(string(out), "check_policy_service { inet:"+d.Addr("policy")) ||
		!strings.Contains(string(out), "permit_mynetworks, reject_unauth_destination") {
		t.Fatalf("smtpd_recipient_restrictions = %q %v: want the policy check first, then what was there", out, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	good := []byte("From: alice@contoso.test\r\nTo: bob@example.org\r\nSubject: fine\r\n\r\nhello\r\n")
	if res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.test", []string{"bob@example.org"}, good); err != nil || !res.Delivered() {
		t.Fatalf("example.org: %+v %v\n%s", res, err, pf.Log())
	}
	if got, err := sink.WaitFor(ctx, 1); err != nil || got[0].Rcpts[0] != "bob@example.org" {
		t.Fatalf("example.org not delivered: %v\n%s", err, pf.Log())
	}
	bad := []byte("From: alice@contoso.test\r\nTo: bob@contosso.test\r\nSubject: held\r\n\r\nsecret\r\n")
	if res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.test", []string{"bob@contosso.test"}, bad); err != nil || !res.Delivered() {
		t.Fatalf("contosso.test was not accepted for holding: %+v %v\n%s", res, err, pf.Log())
	}
	got, err := sink.WaitFor(ctx, 2)
	if err != nil {
		t.Fatalf("no notice: %v\n%s", err, pf.Log())
	}
	if n := got[1]; len(n.Rcpts) != 1 || n.Rcpts[0] != "alice@contoso.test" || !strings.Contains(pf.Log(), "postfix/reinject") {
		t.Fatalf("the second message is not the sender's notice through the re-injection service: %q\n%s", n.Rcpts, pf.Log())
	}
	for _, m := range sink.Messages() {
		if strings.Contains(strings.Join(m.Rcpts, ","), "contosso.test") {
			t.Fatalf("the message to the lookalike went out: %q", m.Rcpts)
		}
	}
}
