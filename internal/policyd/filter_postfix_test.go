package policyd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/relay"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// intakeTransport is the master.cf service that carries held messages to the intake.
const intakeTransport = "rcptguard"

// quarantineMasterCf returns the master.cf lines of the FILTER pattern: the transport
// that hands a held message to rcptguard's intake (policyd.Server.Filter is
// intakeTransport + ":[127.0.0.1]:INTAKE_PORT"), and the re-injection smtpd on
// reinjectPort that the intake (relay.Server.Upstream) hands messages back to, which
// neither filters nor asks the policy service again. The lines are meant to be copied to
// the daemon's documentation as they are.
func quarantineMasterCf(reinjectPort int) []string {
	return []string{
		intakeTransport + " unix - - n - 10 smtp",
		"  -o smtp_send_xforward_command=yes",
		"  -o disable_mime_output_conversion=yes",
		"  -o smtp_generic_maps=",
		"127.0.0.1:" + strconv.Itoa(reinjectPort) + " inet n - n - - smtpd",
		"  -o syslog_name=postfix/reinject",
		"  -o content_filter=",
		"  -o smtpd_end_of_data_restrictions=",
		"  -o smtpd_recipient_restrictions=permit_mynetworks,reject",
		"  -o smtpd_relay_restrictions=permit_mynetworks,reject",
		"  -o smtpd_milters=",
		"  -o mynetworks=127.0.0.0/8",
		"  -o receive_override_options=no_header_body_checks,no_milters,no_unknown_recipient_checks",
	}
}

// intakeHolder is the daemon's Holder (held.Service, without notices) on a real store.
func intakeHolder(st quarantine.Store) held.Holder { return &held.Service{Store: st} }

// startIntake serves a relay intake on a loopback port in front of upstream, holding into
// st, and returns its port.
func startIntake(t *testing.T, upstream string, h held.Holder, s *Server) int {
	t.Helper()
	r := &relay.Server{
		Guard:           s.Guard,
		Intake:          true,
		Holder:          h,
		Upstream:        smtpout.Destination{Address: upstream},
		Hostname:        "intake.rcptguard.test",
		UpstreamTimeout: 30 * time.Second,
		Logger:          s.Logger,
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Serve(l) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; err != relay.ErrServerClosed {
			t.Errorf("intake Serve = %v", err)
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// waitHeld polls the store until it holds n messages or ctx ends.
func waitHeld(ctx context.Context, st quarantine.Store, n int) ([]quarantine.Message, error) {
	for {
		msgs, err := st.List(ctx, quarantine.Filter{})
		if err == nil && len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			return msgs, fmt.Errorf("store holds %d messages, want %d: %w (%v)", len(msgs), n, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestFilterToQuarantineIntakeWithPostfix: Postfix asks the policy service at RCPT and at
// the end of data; a message to hold is accepted with FILTER, queued, and handed to the
// relay intake, which holds it in a real store; the intake hands allowed mail back to
// Postfix's re-injection smtpd. The sender gets 250 from Postfix and the sink nothing.
func TestFilterToQuarantineIntakeWithPostfix(t *testing.T) {
	testenv.RequirePostfix(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	s := &Server{}
	s.Guard = testGuard(t, guard.DefaultPolicy())
	logs := &logBuffer{}
	s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rcptguard log:\n%s", logs)
		}
	})
	reinject := testenv.FreePort(t)
	intake := startIntake(t, "127.0.0.1:"+strconv.Itoa(reinject), intakeHolder(st), s)
	s.Filter = intakeTransport + ":[127.0.0.1]:" + strconv.Itoa(intake)
	addr := start(t, s)

	svc := "check_policy_service { inet:" + addr + ", timeout=5s, default_action=DEFER_IF_PERMIT }"
	sink := testenv.StartSink(t)
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost: sink.Addr(),
		ExtraMain: []string{
			"smtpd_recipient_restrictions = " + svc + ", permit_mynetworks, reject_unauth_destination",
			"smtpd_end_of_data_restrictions = " + svc,
		},
		ExtraMaster: quarantineMasterCf(reinject),
	})
	send := func(t *testing.T, subject string, rcpts ...string) {
		t.Helper()
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", rcpts, message(subject))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Delivered() || len(res.Accepted()) != len(rcpts) || !strings.Contains(res.Data.Text, "queued as") {
			t.Fatalf("Postfix answered %+v, want every recipient and the message accepted", res)
		}
	}

	t.Run("held message reaches the quarantine, not the sink", func(t *testing.T) {
		send(t, "held via filter", "x@army.ml")
		msgs, err := waitHeld(ctx, st, 1)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0]
		if m.Adapter != "relay" || m.Sender != "alice@contoso.com" || m.Subject != "held via filter" || len(m.Recipients) != 1 ||
			m.Recipients[0].Address != "x@army.ml" || m.Recipients[0].Verdict != verdict.Hold {
			t.Fatalf("held %+v", m)
		}
		raw, err := st.Raw(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		// The intake's trace first, then Postfix's, then the message as sent.
		if !strings.HasPrefix(text, "Received: from "+pf.Hostname()+" ([127.0.0.1])\r\n\tby intake.rcptguard.test (rcptguard)") ||
			!strings.Contains(text, "by "+pf.Hostname()+" (Postfix) with ESMTP id") ||
			!strings.Contains(text, "\r\nSubject: held via filter\r\nMessage-ID: <held.via.filter@contoso.com>\r\n") ||
			!strings.HasSuffix(text, "\r\n\r\nHello.\r\n") {
			t.Errorf("raw content:\n%s", text)
		}
		if err := pf.WaitLog(ctx, "End-of-data triggers FILTER "+s.Filter); err != nil {
			t.Error(err)
		}
		if err := pf.WaitLog(ctx, "status=sent (250 2.0.0 Ok, held as "+m.ID); err != nil {
			t.Error(err)
		}
		if err := pf.WaitQueueEmpty(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Fatalf("sink got %d messages", n)
		}
	})
	t.Run("mixed message is held whole", func(t *testing.T) {
		send(t, "mixed via filter", "amy@army.mil", "bob@army.ml")
		msgs, err := waitHeld(ctx, st, 2)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0] // newest first
		var got []string
		for _, r := range m.Recipients {
			got = append(got, r.Address+"="+r.Verdict.String())
		}
		if m.Subject != "mixed via filter" || !slices.Equal(got, []string{"amy@army.mil=allow", "bob@army.ml=hold"}) {
			t.Fatalf("held %+v (%q)", m, got)
		}
		if err := pf.WaitQueueEmpty(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Fatalf("sink got %d messages", n)
		}
	})
	t.Run("allowed message reaches the sink and is not held", func(t *testing.T) {
		send(t, "allowed", "amy@army.mil")
		msgs, err := sink.WaitFor(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[0]; m.Header("Subject") != "allowed" || !slices.Equal(m.Rcpts, []string{"amy@army.mil"}) ||
			strings.Contains(string(m.Data), "(rcptguard)") {
			t.Fatalf("delivered %+v\n%s", m, m.Data)
		}
		if err := pf.WaitQueueEmpty(ctx); err != nil {
			t.Fatal(err)
		}
		if held, err := st.List(ctx, quarantine.Filter{}); err != nil || len(held) != 2 {
			t.Fatalf("store holds %d messages (%v), want 2", len(held), err)
		}
	})
	t.Run("intake forwards to the re-injection smtpd", func(t *testing.T) {
		// What the intake does with a message that needs no hold (the guard changed
		// meanwhile, or the sender confirmed): straight to the re-injection listener.
		res, err := testenv.SMTPSend("127.0.0.1:"+strconv.Itoa(intake), "alice@contoso.com", []string{"carol@army.mil"}, message("reinjected"))
		if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "relayed as") {
			t.Fatalf("%+v %v", res, err)
		}
		msgs, err := sink.WaitFor(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[1]; m.Header("Subject") != "reinjected" || !strings.Contains(string(m.Data), "(rcptguard)") {
			t.Fatalf("delivered %+v\n%s", m, m.Data)
		}
		if err := pf.WaitLog(ctx, "postfix/reinject/smtpd"); err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.Logf("maillog:\n%s", pf.Log())
	}
}
