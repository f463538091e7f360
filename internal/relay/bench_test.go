package relay

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// benchMessage is a plain message of about 4 KiB.
var benchMessage = func() string {
	var b strings.Builder
	b.WriteString("From: alice@contoso.com\r\nTo: amy@army.mil\r\nSubject: benchmark\r\n\r\n")
	for b.Len() < 4<<10 {
		b.WriteString("The quick brown fox jumps over the lazy dog, again and again and again.\r\n")
	}
	return b.String()
}()

var benchRcpts = []string{"amy@army.mil", "carol@example.org"}

// sendBatch sends conns*perConn messages to addr over conns concurrent connections, one
// SMTP session each.
func sendBatch(addr string, conns, perConn int) error {
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Go(func() {
			c, err := smtp.Dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Hello("bench.client.test"); err != nil {
				errs <- err
				return
			}
			for range perConn {
				if err := c.SendMail("alice@contoso.com", benchRcpts, strings.NewReader(benchMessage)); err != nil {
					errs <- err
					return
				}
			}
			c.Quit()
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func benchRelay(b *testing.B, upstream string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	r := &Server{
		Guard: newGuard(b, guard.Hold, false), Upstream: smtpout.Destination{Address: upstream}, Hostname: relayHost,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}
	go r.Serve(ln)
	b.Cleanup(func() { r.Close() })
	return ln.Addr().String()
}

// BenchmarkRelay is the relay alone in front of an in-process sink: 8 clients, 25
// messages each per round.
func BenchmarkRelay(b *testing.B) {
	sink := testenv.StartSink(b)
	addr := benchRelay(b, sink.Addr())
	const conns, perConn = 8, 25
	for b.Loop() {
		if err := sendBatch(addr, conns, perConn); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*conns*perConn)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRelayVsPostfix sends the same rounds of messages through the relay and through
// a private Postfix, both relaying to the same sink, and reports both rates end to end
// (until the sink has every message) and their ratio. Postfix's rate counts its delivery
// from the queue, which the relay, having none, does while the client waits. It needs
// root and Postfix; without them it is skipped (see BenchmarkRelay).
func BenchmarkRelayVsPostfix(b *testing.B) {
	testenv.RequirePostfix(b)
	sink := testenv.StartSink(b)
	pf := testenv.StartPostfix(b, testenv.Options{RelayHost: sink.Addr(), ExtraMain: []string{
		"default_destination_concurrency_limit = 20", "smtp_connection_cache_on_demand = yes",
	}})
	relay := benchRelay(b, sink.Addr())
	const conns, perConn = 8, 25
	var relayTime, pfTime, pfAccept time.Duration
	want := 0
	round := func(addr string) (accepted, delivered time.Duration) {
		start := time.Now()
		if err := sendBatch(addr, conns, perConn); err != nil {
			b.Fatal(err)
		}
		accepted = time.Since(start)
		want += conns * perConn
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := sink.WaitFor(ctx, want); err != nil {
			b.Fatal(err)
		}
		return accepted, time.Since(start)
	}
	for b.Loop() {
		_, d := round(relay)
		relayTime += d
		a, d := round(pf.SMTPAddr())
		pfAccept += a
		pfTime += d
	}
	n := float64(b.N * conns * perConn)
	relayRate, pfRate := n/relayTime.Seconds(), n/pfTime.Seconds()
	b.ReportMetric(relayRate, "relay-msgs/s")
	b.ReportMetric(pfRate, "postfix-msgs/s")
	b.ReportMetric(n/pfAccept.Seconds(), "postfix-accept-msgs/s")
	b.ReportMetric(relayRate/pfRate, "relay/postfix")
	fmt.Fprintf(os.Stderr, "relay %.0f msgs/s, postfix %.0f msgs/s end to end (%.0f accepted), ratio %.2f\n",
		relayRate, pfRate, n/pfAccept.Seconds(), relayRate/pfRate)
}
