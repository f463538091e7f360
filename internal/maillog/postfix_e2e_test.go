package maillog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestRealPostfixLog reads the log of a real Postfix that relayed mail: what Postfix
// writes, not what we think it writes.
func TestRealPostfixLog(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	start := time.Now().Add(-time.Second).Truncate(time.Second)
	sink := testenv.StartSink(t)
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost: sink.Addr(),
		ExtraMain: []string{"virtual_alias_maps = inline:{ {travel@contoso.com = carol@army.mil} }"},
	})
	msg := []byte("From: alice@contoso.com\r\nSubject: itinerary\r\n\r\nhello\r\n")
	res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com",
		[]string{"bob@fabrikam.com", "erin@army.ml", "travel@contoso.com"}, msg)
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v, %v", res, err)
	}
	if _, err := sink.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitQueueEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitLog(ctx, res.QueueID()+": removed"); err != nil {
		t.Fatal(err)
	}
	sink.SetFail(451, "4.3.0 try later")
	res2, err := testenv.SMTPSend(pf.SMTPAddr(), "gina@contoso.com", []string{"frank@fabrikam.com"}, msg)
	if err != nil || !res2.Delivered() {
		t.Fatalf("%+v, %v", res2, err)
	}
	if err := pf.WaitLog(ctx, "status=deferred"); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(pf.Dir(), "log", "maillog")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Now: fi.ModTime(), Failed: true}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	st, err := ReadPostfix(f, opts, func(d Delivery) error {
		got = append(got, d.QueueID+" "+d.Agent+" "+d.From+" "+d.To+" "+d.OrigTo+" "+d.Status)
		if d.Time.Before(start) || d.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: time %v, not between %v and now", d.To, d.Time, start)
		}
		// Postfix logs the first label of myhostname.
		if d.Relay == "" || d.Host != strings.Split(pf.Hostname(), ".")[0] {
			t.Errorf("%s: relay %q, host %q", d.To, d.Relay, d.Host)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	q1, q2 := res.QueueID(), res2.QueueID()
	want := []string{
		q1 + " smtp alice@contoso.com bob@fabrikam.com  sent",
		q1 + " smtp alice@contoso.com carol@army.mil travel@contoso.com sent",
		q1 + " smtp alice@contoso.com erin@army.ml  sent",
		q2 + " smtp gina@contoso.com frank@fabrikam.com  deferred",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) || st.Deliveries != 3 || st.Deferred != 1 || st.Skipped != 0 {
		t.Errorf("deliveries:\n%q\nwant\n%q\nstats %+v\n--- maillog ---\n%s", got, want, st, pf.Log())
	}

	learner, store := newLearner(t)
	f2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	ist, err := Import(ctx, f2, opts, learner)
	if err != nil || ist.Learned != 2 || ist.Refused != 1 {
		t.Errorf("Import = %+v, %v; want army.ml refused, fabrikam.com and army.mil learned", ist, err)
	}
	if n, _ := count(t, store, "army.ml"); n != 0 {
		t.Errorf("army.ml learned")
	}
}
