package held

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestReinjectionOverTLSWithAuth: released mail goes to a next hop that needs STARTTLS
// and AUTH. A wrong password is recorded and tried again later (the mail waits while
// the administrator fixes it); with the right one the message goes out once, encrypted,
// as the configured user.
func TestReinjectionOverTLSWithAuth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cert := testenv.SelfSigned(t, "mx.example.org")
	out := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Users: map[string]string{"rcptguard": "right"}})
	f.svc.Settings.Reinject = smtpout.Destination{Address: out.Addr(), TLS: smtpout.TLSRequired, ServerName: "mx.example.org",
		RootCAs: cert.Pool, Username: "rcptguard", Password: "wrong"}
	id := f.hold(t, heldMessage())
	if err := f.svc.Decide(ctx, id, Release, "admin:root", ""); err != nil {
		t.Fatal(err)
	}
	f.svc.runOnce(ctx)
	m, _ := f.store.Get(ctx, id)
	if m.Delivery != quarantine.DeliveryPending || !strings.Contains(m.LastError, "535") || !m.NextAttempt.After(f.clk.Now()) {
		t.Fatalf("after a wrong password: %q %q %v, want pending with the 535 and a retry time", m.Delivery, m.LastError, m.NextAttempt)
	}
	f.svc.Settings.Reinject.Password = "right"
	f.clk.Advance(time.Minute)
	f.svc.runOnce(ctx)
	f.svc.runOnce(ctx)
	msgs := out.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "rcptguard" || msgs[0].Helo != "rg.test" {
		t.Fatalf("re-injected %+v, want once over TLS as rcptguard with EHLO rg.test", msgs)
	}
	if m, _ := f.store.Get(ctx, id); m.Delivery != quarantine.DeliverySent {
		t.Errorf("delivery %q (%s)", m.Delivery, m.LastError)
	}
}

// TestReinjectionNeverFallsBackToPlainText: TLS required and a next hop without
// STARTTLS: nothing is sent, the message waits, and the error says why.
func TestReinjectionNeverFallsBackToPlainText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.Settings.Reinject = smtpout.Destination{Address: f.out.Addr(), TLS: smtpout.TLSRequired}
	id := f.hold(t, heldMessage())
	if err := f.svc.Decide(ctx, id, Release, "admin:root", ""); err != nil {
		t.Fatal(err)
	}
	f.svc.runOnce(ctx)
	m, _ := f.store.Get(ctx, id)
	if m.Delivery != quarantine.DeliveryPending || !strings.Contains(m.LastError, "does not offer STARTTLS") {
		t.Fatalf("delivery %q %q, want pending: TLS not offered", m.Delivery, m.LastError)
	}
	if n := len(f.out.Messages()); n != 0 {
		t.Errorf("%d messages went out in plain text", n)
	}
}
