package relay

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/providers"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

const relayHost = "relay.rcptguard.test"

// newGuard builds a guard for a small scenario: protected army.mil and contoso.com, the
// namespace mil, the mailbox providers, fabrikam.com known; the policy maps a lookalike of
// a protected domain to protected.
func newGuard(t testing.TB, protected guard.Verdict, monitor bool) *guard.Current {
	t.Helper()
	in := engine.Inputs{
		Own:                 testenv.Domains(t, "contoso.com"),
		Protected:           testenv.Domains(t, "army.mil", "contoso.com"),
		ProtectedNamespaces: []string{"mil"},
		Providers:           providers.Domains(),
		Known:               []engine.KnownDomain{{Domain: testenv.Domains(t, "fabrikam.com")[0], Count: 1200}},
	}
	eng, err := engine.New(in)
	if err != nil {
		t.Fatal(err)
	}
	p := guard.DefaultPolicy()
	p.Protected, p.Monitor = protected, monitor
	var c guard.Current
	c.Store(guard.New(eng, p))
	return &c
}

// recorder keeps the events of a server.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) observe(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

type testRelay struct {
	*Server
	addr   string
	sink   *testenv.Sink
	events *recorder
	done   chan error
}

// startRelay starts a relay on loopback in front of a new sink, with loopback allowed to
// relay; change configures it before it starts.
func startRelay(t testing.TB, change func(*Server)) *testRelay {
	t.Helper()
	sink := testenv.StartSink(t)
	rec := &recorder{}
	s := &Server{
		Guard:           newGuard(t, guard.Hold, false),
		Upstream:        smtpout.Destination{Address: sink.Addr()},
		Hostname:        relayHost,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    30 * time.Second,
		UpstreamTimeout: 30 * time.Second,
		AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Observe:         rec.observe,
	}
	if change != nil {
		change(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRelay{Server: s, addr: ln.Addr().String(), sink: sink, events: rec, done: make(chan error, 1)}
	go func() { tr.done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-tr.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	return tr
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func message(subject string) []byte {
	return []byte("From: alice@contoso.com\r\nTo: someone\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + subject + "@contoso.com>\r\n\r\nHello.\r\n")
}

// conn is a raw SMTP client connection that reads whole replies.
type conn struct {
	t testing.TB
	net.Conn
	r *bufio.Reader
}

func dial(t testing.TB, addr string) *conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	cc := &conn{t: t, Conn: c, r: bufio.NewReader(c)}
	if got := cc.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting %q", got)
	}
	return cc
}

// reply reads one reply, multi-line ones joined by "\n"; "" at EOF.
func (c *conn) reply() string {
	c.t.Helper()
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			if line != "" {
				c.t.Fatalf("partial reply line %q: %v", line, err)
			}
			return strings.Join(lines, "\n")
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n")
		}
	}
}

// cmd sends one line and returns the reply.
func (c *conn) cmd(format string, args ...any) string {
	c.t.Helper()
	if _, err := fmt.Fprintf(c, format+"\r\n", args...); err != nil {
		c.t.Fatal(err)
	}
	return c.reply()
}

// expect sends a command and checks the start of the reply.
func (c *conn) expect(prefix, format string, args ...any) string {
	c.t.Helper()
	got := c.cmd(format, args...)
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("%s: got %q, want %s...", fmt.Sprintf(format, args...), got, prefix)
	}
	return got
}

// selfSigned returns a server certificate for relayHost and 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: relayHost},
		DNSNames:     []string{relayHost},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}
