package held

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestCutAfterEndOfDataIsUnknown: a connection lost after the end of the data (the next
// hop may have taken the message) is never retried by itself; one lost before is.
func TestCutAfterEndOfDataIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		atEnd bool
		want  quarantine.Delivery
	}{{true, quarantine.DeliveryUnknown}, {false, quarantine.DeliveryPending}} {
		f := newFixture(t)
		f.svc.Settings.Reinject = smtpout.Destination{Address: testenv.CutServer(t, tc.atEnd)}
		ctx := context.Background()
		id := f.hold(t, heldMessage())
		if err := f.svc.Decide(ctx, id, Release, "admin:root", ""); err != nil {
			t.Fatal(err)
		}
		f.svc.runOnce(ctx)
		m, _ := f.store.Get(ctx, id)
		if m.Delivery != tc.want {
			t.Errorf("cut at the end %v: delivery %q (%s), want %q", tc.atEnd, m.Delivery, m.LastError, tc.want)
		}
	}
}

// slowServer takes a message and answers its end of data only once release is closed;
// it tells gotDot when the end of data arrived.
func slowServer(t *testing.T, gotDot chan<- struct{}, release <-chan struct{}) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		c.Write([]byte("220 slow ESMTP\r\n"))
		data := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch {
			case data && line == ".\r\n":
				gotDot <- struct{}{}
				<-release
				c.Write([]byte("250 2.0.0 queued as SLOW\r\n"))
				data = false
			case data:
			case strings.HasPrefix(strings.ToUpper(line), "DATA"):
				c.Write([]byte("354 go on\r\n"))
				data = true
			case strings.HasPrefix(strings.ToUpper(line), "QUIT"):
				c.Write([]byte("221 bye\r\n"))
				return
			default:
				c.Write([]byte("250 ok\r\n"))
			}
		}
	}()
	return l.Addr().String()
}

// TestStopLetsTheReinjectionFinish: stopping rcptguard while the next hop has the whole
// message but has not answered yet waits for the answer, so the outcome is known (sent),
// not left unknown.
func TestStopLetsTheReinjectionFinish(t *testing.T) {
	f := newFixture(t)
	gotDot, release := make(chan struct{}), make(chan struct{})
	f.svc.Settings.Reinject = smtpout.Destination{Address: slowServer(t, gotDot, release)}
	f.svc.Settings.Notifier = nil
	ctx := context.Background()
	id := f.hold(t, heldMessage())
	if err := f.svc.Decide(ctx, id, Release, "admin:root", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Start(); err != nil {
		t.Fatal(err)
	}
	<-gotDot
	stopped := make(chan error)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		stopped <- f.svc.Stop(sctx)
	}()
	<-f.svc.stopping // the loop is cancelled while the next hop has not answered
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if m, _ := f.store.Get(ctx, id); m.Delivery != quarantine.DeliverySent || m.DeliveryReply != "250 2.0.0 queued as SLOW" {
		t.Fatalf("after a stop during the re-injection: %q %q %q", m.Delivery, m.DeliveryReply, m.LastError)
	}
}
