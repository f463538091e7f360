package daemon

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// These tests run the real binary on real SQLite and real SMTP on loopback, and SIGKILL
// it: what the relay acknowledged as held must be in the quarantine after a restart, and
// a released message must reach the re-injection service exactly once whatever the
// moment of the kill.

const (
	killSender = "a@contoso.com"
	killRcpt   = "x@army.ml" // lookalike of the protected army.mil: held
)

func killMessage(subject string) []byte {
	return []byte("From: " + killSender + "\r\nTo: " + killRcpt + "\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@contoso.com>\r\n\r\nBody of " + subject + ".\r\n")
}

// TestHeldMessageSurvivesSIGKILL: the relay answers "held as ID", the process is
// SIGKILLed at once, and after a restart the message is held with its content; released
// from another process, the running daemon re-injects it exactly once.
func TestHeldMessageSurvivesSIGKILL(t *testing.T) {
	bin := buildServeBinary(t)
	env := newKillEnv(t)
	p := startServe(t, bin, env)

	msg := killMessage("survives SIGKILL")
	res, err := testenv.SMTPSend(env.relay, killSender, []string{killRcpt}, msg)
	if err != nil {
		t.Fatal(err)
	}
	id := heldID(res.Data.Text)
	if res.Data.Code != 250 || id == "" {
		t.Fatalf("relay did not answer held: %+v", res)
	}
	if err := p.kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	store := env.openStore(t)
	ctx := context.Background()
	m, err := store.Get(ctx, id)
	if err != nil {
		t.Fatalf("the acknowledged message is not in the quarantine after SIGKILL: %v", err)
	}
	if m.State != quarantine.Held || m.Sender != killSender || len(m.Recipients) != 1 ||
		m.Recipients[0].Address != killRcpt || m.Subject != "survives SIGKILL" {
		t.Fatalf("after SIGKILL: %+v", m)
	}
	raw, err := store.Raw(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	// The relay stores the message behind its own trace header, byte for byte.
	if !bytes.HasPrefix(raw, []byte("Received: ")) || !bytes.HasSuffix(raw, msg) || int64(len(raw)) != m.Size {
		t.Fatalf("held content differs from what was sent:\n%q", raw)
	}

	if err := store.Release(ctx, id, quarantine.ReleasedAsAddressed, []string{killRcpt}, "test", "", ""); err != nil {
		t.Fatal(err)
	}
	// Another process's release does not wake the loop: it finds it within its tick.
	waitUntil(t, 20*time.Second, "re-injection recorded", func() (bool, string) {
		m, err := store.Get(ctx, id)
		return err == nil && m.Delivery == quarantine.DeliverySent,
			fmt.Sprintf("delivery %q attempts %d error %q %v; sink has %d", m.Delivery, m.Attempts, m.LastError, err, len(env.mail.Messages()))
	})
	got := env.mail.Messages()
	if len(got) != 1 {
		t.Fatalf("the sink got %d messages, want exactly 1", len(got))
	}
	g := got[0]
	if releasedID(g, held.ReleasedHeader) != id || g.From != killSender || len(g.Rcpts) != 1 || g.Rcpts[0] != killRcpt ||
		!bytes.HasSuffix(g.Data, raw) {
		t.Fatalf("re-injected message: from %q rcpts %q\n%s", g.From, g.Rcpts, g.Data)
	}
	if !p.running() {
		t.Fatal("rcptguard ended by itself")
	}
}

// TestConcurrentHoldsWithKills: concurrent clients that retry like an MTA until they get
// 250, while the daemon is SIGKILLed and restarted at random moments; then every held
// message is released while the killing goes on during re-injection.
func TestConcurrentHoldsWithKills(t *testing.T) {
	const (
		n       = 600
		clients = 8
	)
	bin := buildServeBinary(t)
	env := newKillEnv(t)
	p := startServe(t, bin, env)
	store := env.openStore(t)
	ctx := context.Background()
	began := time.Now()

	// The killer SIGKILLs the daemon after a random wait in [lo, hi) and restarts it,
	// until stop is closed; the daemon is running when it returns.
	var killMu sync.Mutex
	var killErr error
	killFailed := func() error {
		killMu.Lock()
		defer killMu.Unlock()
		return killErr
	}
	killer := func(stop <-chan struct{}, lo, hi time.Duration) (done chan struct{}) {
		done = make(chan struct{})
		go func() {
			defer close(done)
			for {
				w := time.NewTimer(lo + rand.N(hi-lo))
				select {
				case <-stop:
					w.Stop()
					return
				case <-w.C: // the random moment of the next kill
				}
				if err := p.restart(); err != nil {
					killMu.Lock()
					killErr = err
					killMu.Unlock()
					return
				}
			}
		}()
		return done
	}

	// Phase 1: hold n messages under kills.
	type ack struct {
		id    string
		tries int
	}
	acks := make([]ack, n)
	failures := make([]string, n)
	deadline := time.Now().Add(40 * time.Second)
	work := make(chan int, n)
	for i := range n {
		work <- i
	}
	close(work)
	stop1 := make(chan struct{})
	killed1 := killer(stop1, 50*time.Millisecond, 300*time.Millisecond)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				msg := killMessage(fmt.Sprintf("kill %03d", i))
				for try := 1; ; try++ {
					res, err := testenv.SMTPSend(env.relay, killSender, []string{killRcpt}, msg)
					if err == nil && res.Data.Code == 250 {
						acks[i] = ack{heldID(res.Data.Text), try}
						break
					}
					if time.Now().After(deadline) {
						failures[i] = fmt.Sprintf("kill %03d: no 250 after %d tries: %+v %v", i, try, res, err)
						break
					}
					time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond) // an MTA's backoff
				}
			}
		}()
	}
	wg.Wait()
	close(stop1)
	<-killed1
	if err := killFailed(); err != nil {
		t.Fatal(err)
	}
	kills1 := p.killCount()
	acked, retried := 0, 0
	for i := range n {
		if failures[i] != "" {
			t.Error(failures[i])
			continue
		}
		acked++
		if acks[i].tries > 1 {
			retried++
		}
		if acks[i].id == "" {
			t.Errorf("kill %03d: 250 without a held ID", i)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	list, err := listAll(ctx, store, quarantine.Held)
	if err != nil {
		t.Fatal(err)
	}
	bySubject := map[string][]quarantine.Message{}
	for _, m := range list {
		bySubject[m.Subject] = append(bySubject[m.Subject], m)
	}
	dupHeld, dupSameKey := 0, 0
	for i := range n {
		subject := fmt.Sprintf("kill %03d", i)
		copies := bySubject[subject]
		found := false
		for _, m := range copies {
			found = found || m.ID == acks[i].id
		}
		if !found {
			t.Errorf("%s acknowledged as held as %s, but that is not held (%d copies held)", subject, acks[i].id, len(copies))
		}
		if len(copies) > 1 {
			dupHeld += len(copies) - 1
			keys := map[string]bool{}
			for _, m := range copies {
				if keys[m.DedupeKey] {
					dupSameKey++ // the dedupe should have caught this one
				}
				keys[m.DedupeKey] = true
			}
			// Why the dedupe missed it: compare the copies without the relay's own trace header.
			sameBody := true
			var first []byte
			for k, m := range copies {
				raw, err := store.Raw(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					first = withoutFirstField(raw)
				} else {
					sameBody = sameBody && bytes.Equal(first, withoutFirstField(raw))
				}
			}
			t.Logf("%s held %d times (acknowledged after %d tries): a kill between the commit and the reply; "+
				"distinct dedupe keys: %d; the copies are identical but for the relay's Received header: %v",
				subject, len(copies), acks[i].tries, len(keys), sameBody)
		}
	}
	if len(list) != acked+dupHeld {
		t.Errorf("%d messages held, want %d acknowledged + %d duplicates", len(list), acked, dupHeld)
	}
	// A kill between the commit and the 250 makes the client retry a message that is
	// held already: Hold's dedupe must return the held copy's ID, so nothing is held twice.
	if dupHeld > 0 {
		t.Errorf("%d acknowledged messages are held more than once", dupHeld)
	}
	if dupSameKey > 0 {
		t.Errorf("%d held duplicates have the same dedupe key as another held copy", dupSameKey)
	}
	phase1 := time.Since(began)

	// Phase 2: release everything held, and go on killing during the re-injection.
	for _, m := range list {
		if err := store.Release(ctx, m.ID, quarantine.ReleasedAsAddressed, []string{killRcpt}, "test", "", ""); err != nil {
			t.Fatalf("release %s: %v", m.ID, err)
		}
	}
	released := time.Since(began)
	stop2 := make(chan struct{})
	killed2 := killer(stop2, 30*time.Millisecond, 200*time.Millisecond)
	counts := func() (pending, sending, sent, unknown, other int) {
		all, err := listAll(ctx, store, quarantine.None)
		if err != nil {
			t.Errorf("list: %v", err)
			return -1, -1, -1, -1, -1
		}
		for _, m := range all {
			switch m.Delivery {
			case quarantine.DeliveryPending:
				pending++
			case quarantine.DeliverySending:
				sending++
			case quarantine.DeliverySent:
				sent++
			case quarantine.DeliveryUnknown:
				unknown++
			default:
				other++
			}
		}
		return
	}
	// Kill until nothing is left pending (a restart starts the loop at once; without
	// kills it finds the releases within its tick).
	stopAt := time.Now().Add(20 * time.Second)
	for {
		pending, _, _, _, _ := counts()
		if pending == 0 || time.Now().After(stopAt) || killFailed() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // the poll interval
	}
	close(stop2)
	<-killed2
	if err := killFailed(); err != nil {
		t.Fatal(err)
	}
	kills2 := p.killCount() - kills1
	killedUntil := time.Since(began)
	// The last run recovered what an earlier one left sending, or finishes what it sends.
	waitUntil(t, 20*time.Second, "every release attempted", func() (bool, string) {
		pending, sending, sent, unknown, other := counts()
		return pending == 0 && sending == 0, fmt.Sprintf("pending %d sending %d sent %d unknown %d other %d",
			pending, sending, sent, unknown, other)
	})

	delivered := func() map[string]int {
		out := map[string]int{}
		for _, g := range env.mail.Messages() {
			out[releasedID(g, held.ReleasedHeader)]++
		}
		return out
	}
	atSink := delivered()
	unknownAfterKill, unknownDelivered, retriedUnknown := 0, 0, 0
	var retry []string
	for _, m := range list {
		g, err := store.Get(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch g.Delivery {
		case quarantine.DeliverySent:
		case quarantine.DeliveryUnknown:
			// What an administrator does: look in the mail log (here, the sink); retry
			// only what did not arrive.
			unknownAfterKill++
			if atSink[m.ID] > 0 {
				unknownDelivered++
				continue
			}
			if err := store.RetryDelivery(ctx, m.ID, "test", ""); err != nil {
				t.Fatalf("retry %s: %v", m.ID, err)
			}
			retriedUnknown++
			retry = append(retry, m.ID)
		default:
			t.Errorf("%s (%s): delivery %q after the kills, want sent or unknown: %s", m.ID, m.Subject, g.Delivery, g.LastError)
		}
	}
	waitUntil(t, 20*time.Second, "retried deliveries sent", func() (bool, string) {
		left := 0
		for _, id := range retry {
			if g, err := store.Get(ctx, id); err != nil || g.Delivery != quarantine.DeliverySent {
				left++
			}
		}
		return left == 0, fmt.Sprintf("%d of %d retried deliveries not sent", left, len(retry))
	})
	if !p.running() {
		t.Error("rcptguard ended by itself")
	}

	atSink = delivered()
	total, dupDelivered := 0, 0
	for id, k := range atSink {
		total += k
		if k > 1 {
			dupDelivered += k - 1
			t.Errorf("held message %s re-injected %d times", id, k)
		}
	}
	for _, m := range list {
		if atSink[m.ID] == 0 {
			t.Errorf("held message %s (%s) never re-injected", m.ID, m.Subject)
		}
	}
	if len(atSink) != len(list) {
		t.Errorf("the sink got %d distinct held messages, %d were held", len(atSink), len(list))
	}
	t.Logf("acknowledged %d (%d after a retry), held %d, duplicates held %d, kills %d (holding %d, re-injecting %d), "+
		"deliveries %d, unknown-after-kill %d (%d had arrived, %d retried), duplicates delivered %d; "+
		"held by %s, released by %s, kills until %s, total %s",
		acked, retried, len(list), dupHeld, kills1+kills2, kills1, kills2, total, unknownAfterKill, unknownDelivered,
		retriedUnknown, dupDelivered, phase1.Round(time.Millisecond), released.Round(time.Millisecond),
		killedUntil.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}
