package intake

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// guardFor is a guard with army.mil protected (and the namespace mil); lenient lets
// lookalikes of it through, as a reloaded configuration might.
func guardFor(t testing.TB, lenient bool) *guard.Guard {
	t.Helper()
	eng, err := engine.New(engine.Inputs{Protected: testenv.Domains(t, "army.mil"), ProtectedNamespaces: []string{"mil"}})
	if err != nil {
		t.Fatal(err)
	}
	p := guard.DefaultPolicy()
	if lenient {
		p.Protected, p.Namespace = guard.Allow, guard.Allow
	}
	return guard.New(eng, p)
}

// fixture is an intake in front of a real store and a sink standing for the
// re-injection service.
type fixture struct {
	store  *quarantine.SQLite
	guard  guard.Current
	sink   *testenv.Sink
	logs   *testenv.SyncBuffer
	events chan Event
	srv    *Server
	addr   string
	// reinject is where the next intake started hands mail back: the sink by default.
	reinject string
	// content and rules are the next intake's content rules (none by default).
	content *content.Classifier
	rules   guard.ContentRules
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{store: st, sink: testenv.StartSink(t), logs: &testenv.SyncBuffer{}, events: make(chan Event, 10)}
	f.guard.Store(guardFor(t, false))
	f.reinject = f.sink.Addr()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("intake log:\n%s", f.logs)
		}
	})
	f.start(t, "127.0.0.1:0")
	return f
}

// start serves a new intake on addr (the test's end stops it).
func (f *fixture) start(t *testing.T, addr string) {
	t.Helper()
	f.srv = &Server{
		Handovers: f.store, Holder: &held.Service{Store: f.store}, Guard: &f.guard, Reinject: smtpout.Destination{Address: f.reinject},
		Hostname: "intake.rcptguard.test", Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
		Observe: func(ev Event) { f.events <- ev },
		Content: f.content, ContentRules: f.rules,
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	done := make(chan error, 1)
	srv := f.srv
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
}

// event is the next message the intake reported.
func (f *fixture) event(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-f.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event from the intake")
	}
	return Event{}
}

// postfixMessage is a message as Postfix hands it to a content filter: the Received
// field of its smtpd, with the queue ID, on top.
func postfixMessage(queueID, subject string) []byte {
	return []byte("Received: from client.example (client.example [192.0.2.7])\r\n" +
		"\tby mx.rcptguard.test (Postfix) with ESMTPSA id " + queueID + "\r\n" +
		"\tfor <bob@army.ml>; Fri, 04 Dec 2026 13:00:00 +0000 (UTC)\r\n" +
		"From: alice@contoso.com\r\nSubject: " + subject + "\r\n\r\nHello.\r\n")
}
