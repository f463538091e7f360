package milter

import (
	"strings"
	"sync/atomic"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestPanicIsCountedAndTheServerGoesOn: a panic in a callback (here Observe, for a
// recipient named boom) gives that message a temporary error, is logged with its stack
// and counted, and the server answers the next message as usual.
func TestPanicIsCountedAndTheServerGoesOn(t *testing.T) {
	logs := &testenv.SyncBuffer{}
	var panicked atomic.Int32
	s := &Server{
		Guard:    current(testGuard(t, holdPolicy())),
		Logger:   jsonLogger(logs),
		Panicked: func() { panicked.Add(1) },
		Observe: func(ev Event) {
			for _, r := range ev.Recipients {
				if strings.HasPrefix(r, "boom@") {
					panic("observer bug")
				}
			}
		},
	}
	addr := start(t, s)
	r := dial(t, addr, smtpClient).send("alice@army.mil", []string{"boom@army.mil"}, nil, true)
	if r.eom == nil || !strings.HasPrefix(r.eom.SMTPReply, "451") {
		t.Errorf("the message that panicked got %+v, want a temporary error", r.eom)
	}
	if panicked.Load() == 0 || !strings.Contains(logs.String(), "observer bug") || !strings.Contains(logs.String(), "panic_test.go") {
		t.Errorf("panicked %d times; log:\n%s", panicked.Load(), logs.String())
	}
	r = dial(t, addr, smtpClient).send("alice@army.mil", []string{"bob@army.mil"}, nil, true)
	if r.eom == nil || r.eom.Type != gomilter.ActionAccept {
		t.Errorf("after the panic, a good message got %+v", r.eom)
	}
}
