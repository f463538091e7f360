package relay

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestPanicIsCountedAndTheRelayGoesOn: a panic while serving a connection (here in
// Observe, for a recipient named boom) gets 421 on that connection, is counted and
// logged, and the relay serves the next message.
func TestPanicIsCountedAndTheRelayGoesOn(t *testing.T) {
	t.Parallel()
	logs := &testenv.SyncBuffer{}
	var panicked atomic.Int32
	r := startRelay(t, func(s *Server) {
		s.Logger = slog.New(slog.NewTextHandler(logs, nil))
		s.Panicked = func() { panicked.Add(1) }
		s.Observe = func(ev Event) {
			for _, re := range ev.Recipients {
				if strings.HasPrefix(re.Address, "boom@") {
					panic("observer bug")
				}
			}
		}
	})
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"boom@army.mil"}, message("boom"))
	if err == nil && res.Delivered() {
		t.Errorf("the message that panicked was acknowledged: %v", res.Data)
	}
	if panicked.Load() != 1 || !strings.Contains(logs.String(), "observer bug") {
		t.Errorf("panicked %d times; log:\n%s", panicked.Load(), logs.String())
	}
	res, err = testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"carol@army.mil"}, message("after"))
	if err != nil || !res.Delivered() {
		t.Errorf("after the panic: %v %v", res, err)
	}
}
