package milter

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/guard"
)

const tempFailReply = "451 4.3.0 rcptguard cannot check this message now; please try again later"

func TestNoGuardIsATemporaryError(t *testing.T) {
	t.Parallel()
	var ev events
	guards := current(nil)
	addr := start(t, &Server{Guard: guards, Observe: ev.observe})
	c := dial(t, addr, smtpClient)
	res := c.send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.mail == nil || res.mail.SMTPReply != tempFailReply {
		t.Fatalf("MAIL = %v, want %q", res.mail, tempFailReply)
	}
	if got := ev.all(); len(got) != 1 || got[0].Action != ActionTempFail || !errors.Is(got[0].Err, ErrNoGuard) {
		t.Fatalf("events %+v, want one tempfail for no guard", got)
	}
	// Once a guard is loaded, the next message on the same connection is decided.
	guards.Store(testGuard(t, holdPolicy()))
	res = c.send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("after loading a guard: %v, want accepted", res.eom)
	}
	// A nil Guard field is the same as an empty one.
	addr = start(t, &Server{})
	res = dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.mail == nil || res.mail.SMTPReply != tempFailReply {
		t.Fatalf("no Guard field: MAIL = %v, want %q", res.mail, tempFailReply)
	}
}

func TestPanicIsATemporaryErrorNotAnAccept(t *testing.T) {
	t.Parallel()
	calls := 0
	observe := func(ev Event) {
		calls++
		if calls == 1 {
			panic("observer bug")
		}
	}
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Observe: observe})
	c := dial(t, addr, smtpClient)
	res := c.send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.SMTPReply != tempFailReply {
		t.Fatalf("end of message = %v, want %q", res.eom, tempFailReply)
	}
	res = c.send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("next message = %v, want accepted", res.eom)
	}
}

func TestShutdownRefusesNewMessagesAndFinishesTheOnesUnderWay(t *testing.T) {
	t.Parallel()
	s := &Server{Guard: current(testGuard(t, holdPolicy()))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	busy := dial(t, ln.Addr().String(), smtpClient) // a message under way
	busy.macros.Set(gomilter.MacroMailAddr, "alice@contoso.com")
	if _, err := busy.sess.Mail("alice@contoso.com", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := busy.sess.Rcpt("bob@army.ml", ""); err != nil {
		t.Fatal(err)
	}
	idle := dial(t, ln.Addr().String(), smtpClient)

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v, want ErrServerClosed", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts connections")
	}
	// The message under way is decided as usual.
	if _, err := busy.sess.DataStart(); err != nil {
		t.Fatal(err)
	}
	if _, err := busy.sess.HeaderEnd(); err != nil {
		t.Fatal(err)
	}
	_, act, err := busy.sess.BodyReadFrom(strings.NewReader("x\r\n"))
	if err != nil || act.Type != gomilter.ActionRejectWithCode || !strings.HasPrefix(act.SMTPReply, "550 5.7.1 bob@army.ml") {
		t.Fatalf("message under way: %v, %v; want its hold refusal", act, err)
	}
	// A new message on an open connection gets a temporary error.
	res := idle.send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.mail == nil || res.mail.SMTPReply != tempFailReply {
		t.Fatalf("new message while shutting down: MAIL = %v, want %q", res.mail, tempFailReply)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with connections open", err)
	default:
	}
	busy.sess.Close()
	idle.sess.Close()
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown = %v, want ErrServerClosed", err)
	}
}

func TestShutdownDeadlineClosesIdleConnections(t *testing.T) {
	t.Parallel()
	s := &Server{Guard: current(testGuard(t, holdPolicy()))}
	addr := start(t, s)
	c := dial(t, addr, smtpClient)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	if _, err := c.sess.Mail("alice@contoso.com", ""); err == nil {
		t.Fatal("the connection is still open after the deadline")
	}
}

func TestCloseBeforeServe(t *testing.T) {
	t.Parallel()
	s := &Server{}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close = %v, want ErrServerClosed", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Serve left the listener open")
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReplyForEveryVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		r    guard.Reply
		want string
	}{
		{guard.ReplyFor(guard.Reject, "Did you mean army.mil?"), "550 5.7.1 Did you mean army.mil?"},
		{guard.ReplyFor(guard.Invalid, "Not a valid address."), "553 5.1.3 Not a valid address."},
		{guard.ReplyFor(guard.Hold, "x."), "550 5.7.1 x. Please check the recipients and send again."},
		{guard.ReplyFor(guard.Reject, "two\r\nlines 50%"), "550 5.7.1 two  lines 50%%"},
		{guard.TempFail, tempFailReply},
	} {
		resp, err := response(tc.r)
		if err != nil {
			t.Fatal(err)
		}
		data := resp.Response().Data
		if got := strings.TrimSuffix(string(data), "\x00"); got != tc.want {
			t.Errorf("response(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}
