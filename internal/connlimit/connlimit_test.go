package connlimit

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// server accepts on a capped listener, greets each connection with "220 hi" and keeps
// it until the test closes it.
type server struct {
	l     *Listener
	mu    sync.Mutex
	conns []net.Conn
	got   chan net.Conn
}

func startServer(t *testing.T, cfg Config) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{l: New(ln, cfg), got: make(chan net.Conn, 100)}
	t.Cleanup(func() { s.l.Close() })
	go func() {
		for {
			c, err := s.l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("220 hi\r\n"))
			s.got <- c
		}
	}()
	return s
}

// dialFrom connects from local (any of 127/8) and returns the first line it reads.
func dialFrom(t *testing.T, addr, local string) (net.Conn, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && err != io.EOF {
		t.Fatalf("read: %v", err)
	}
	return c, line
}

func TestCaps(t *testing.T) {
	var logs testenv.SyncBuffer
	refused := map[string]int{}
	var mu sync.Mutex
	s := startServer(t, Config{
		Max: 3, MaxPerClient: 2, Reply: SMTPReply, Name: "relay",
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Refused: func(r string) { mu.Lock(); refused[r]++; mu.Unlock() },
	})
	addr := s.l.Addr().String()
	for range 2 {
		if _, line := dialFrom(t, addr, "127.0.0.1"); line != "220 hi\r\n" {
			t.Fatalf("got %q", line)
		}
	}
	for range 2 {
		if _, line := dialFrom(t, addr, "127.0.0.1"); line != "421 4.7.0 Too many connections from your address, try again later\r\n" {
			t.Fatalf("third from one address: %q", line)
		}
	}
	if _, line := dialFrom(t, addr, "127.0.0.2"); line != "220 hi\r\n" {
		t.Fatalf("another address: %q", line)
	}
	if _, line := dialFrom(t, addr, "127.0.0.3"); line != "421 4.7.0 Too many connections, try again later\r\n" {
		t.Fatalf("fourth in all: %q", line)
	}
	mu.Lock()
	if refused[ReasonMaxConnectionsPerClient] != 2 || refused[ReasonMaxConnections] != 1 {
		t.Errorf("refused = %v", refused)
	}
	mu.Unlock()
	if n := strings.Count(logs.String(), "connections refused"); n != 1 {
		t.Errorf("%d log lines for 3 refusals, want 1:\n%s", n, logs.String())
	}

	// A closed connection gives its place back.
	(<-s.got).Close()
	testenv.WaitFor(t, "two connections open", func() bool { return s.l.Open() == 2 })
	if _, line := dialFrom(t, addr, "127.0.0.3"); line != "220 hi\r\n" {
		t.Fatalf("after a close: %q", line)
	}
}

func TestHTTPReply(t *testing.T) {
	s := startServer(t, Config{Max: 1, Reply: HTTPReply})
	dialFrom(t, s.l.Addr().String(), "127.0.0.1")
	resp, err := http.Get("http://" + s.l.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d", resp.StatusCode)
	}
}
