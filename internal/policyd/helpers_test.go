package policyd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// testGuard is the guard of the tests: army.mil, navy.mil and contoso.com protected, the
// namespace mil, the built-in providers, under policy p.
func testGuard(t testing.TB, p guard.Policy) *guard.Current {
	t.Helper()
	var prot []address.Domain
	for _, n := range []string{"army.mil", "navy.mil", "contoso.com"} {
		d, err := address.ParseDomain(n)
		if err != nil {
			t.Fatal(err)
		}
		prot = append(prot, d)
	}
	eng, err := engine.New(engine.Inputs{Protected: prot, ProtectedNamespaces: []string{"mil"}, Providers: providers.Domains()})
	if err != nil {
		t.Fatal(err)
	}
	var cur guard.Current
	cur.Store(guard.New(eng, p))
	return &cur
}

// rejectPolicy refuses lookalikes of protected domains at RCPT.
func rejectPolicy() guard.Policy {
	p := guard.DefaultPolicy()
	p.Protected = guard.Reject
	return p
}

func monitorPolicy(p guard.Policy) guard.Policy {
	p.Monitor = true
	return p
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start serves s on a loopback port and returns its address. The test's end shuts it
// down and checks that Serve returned ErrServerClosed. A nil Guard gets the default
// policy's; a nil Logger logs to a buffer, printed if the test fails.
func start(t testing.TB, s *Server) string {
	t.Helper()
	if s.Guard == nil {
		s.Guard = testGuard(t, guard.DefaultPolicy())
	}
	if s.Logger == nil {
		logs := &logBuffer{}
		s.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server log:\n%s", logs)
			}
		})
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return l.Addr().String()
}

// client speaks the policy protocol as Postfix does.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// req is a policy request as Postfix 3.7 sends it, with attrs ("name=value") replacing
// or adding to the defaults.
func req(state, instance string, attrs ...string) string {
	base := []string{"request=smtpd_access_policy", "protocol_state=" + state, "protocol_name=ESMTP",
		"client_address=127.0.0.1", "client_name=localhost", "reverse_client_name=localhost",
		"helo_name=client.example", "sender=alice@contoso.com", "recipient=", "recipient_count=0",
		"queue_id=", "instance=" + instance, "size=0", "etrn_domain=", "stress=", "sasl_method=",
		"sasl_username=", "sasl_sender=", "ccert_subject=", "ccert_issuer=", "ccert_fingerprint=",
		"ccert_pubkey_fingerprint=", "encryption_protocol=", "encryption_cipher=",
		"encryption_keysize=0", "policy_context=", "server_address=127.0.0.1", "server_port=25",
		"compatibility_level=3.6", "mail_version=3.7.11"}
	for _, a := range attrs {
		name, _, _ := strings.Cut(a, "=")
		replaced := false
		for i, b := range base {
			if strings.HasPrefix(b, name+"=") {
				base[i], replaced = a, true
			}
		}
		if !replaced {
			base = append(base, a)
		}
	}
	return strings.Join(base, "\n") + "\n\n"
}

func rcptReq(instance, rcpt string) string {
	return req(StateRcpt, instance, "recipient="+rcpt)
}

func eomReq(instance string, count int) string {
	return req(StateEOM, instance, "recipient_count="+strconv.Itoa(count), "queue_id=4XyZ1234AB")
}

// send writes raw bytes.
func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// answer reads one answer and returns the action.
func (c *client) answer() (string, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	blank, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if blank != "\n" || !strings.HasPrefix(line, "action=") {
		return "", errors.New("bad answer " + line + blank)
	}
	return strings.TrimSuffix(strings.TrimPrefix(line, "action="), "\n"), nil
}

// ask sends a request and returns the action.
func (c *client) ask(raw string) string {
	c.t.Helper()
	c.send(raw)
	a, err := c.answer()
	if err != nil {
		c.t.Fatalf("no answer: %v", err)
	}
	return a
}

// closed reports whether the server closed the connection without answering.
func (c *client) closed() bool {
	c.t.Helper()
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
