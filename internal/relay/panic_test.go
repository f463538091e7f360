package relay

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	// go-smtp answers 421 and closes the connection before it logs the panic: wait for it.
	testenv.WaitFor(t, "the panic counted and logged", func() bool {
		return panicked.Load() == 1 && strings.Contains(logs.String(), "observer bug")
	})
	res, err = testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"carol@army.mil"}, message("after"))
	if err != nil || !res.Delivered() {
		t.Errorf("after the panic: %v %v", res, err)
	}
}

// TestBDATAfterCloseIsNotCountedAsAPanic: "BDAT 0" (or a chunk cut short) and the
// client's end made go-smtp's BDAT goroutine call a nil session (found by FuzzSession on a
// loaded machine): go-smtp recovers it, and it was counted as a panic of rcptguard's, 279
// times in 300 sessions. It is a library race after the connection is over, so it is
// logged at debug level and not counted; the relay goes on.
func TestBDATAfterCloseIsNotCountedAsAPanic(t *testing.T) {
	t.Parallel()
	logs := &testenv.SyncBuffer{}
	var panicked atomic.Int32
	r := startRelay(t, func(s *Server) {
		s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s.Panicked = func() { panicked.Add(1) }
	})
	for range 100 {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "EHLO x\r\nMAIL FROM:<a@contoso.com>\r\nRCPT TO:<c@army.mil>\r\nBDAT 0\r\n")
		c.(*net.TCPConn).CloseWrite()
		io.ReadAll(c)
		c.Close()
	}
	// go-smtp logs after it closed the connection: a message first gives the last of
	// those goroutines time to end (the counts are read after it).
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"carol@army.mil"}, message("after"))
	if err != nil || !res.Delivered() {
		t.Errorf("after: %v %v", res, err)
	}
	if n := panicked.Load(); n != 0 {
		t.Errorf("%d panics counted; log:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "panic while serving") {
		t.Errorf("logged as a panic:\n%s", logs.String())
	}
}
