package milter

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/providers"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// testGuard builds a guard for contoso.com (its own domain) that protects army.mil,
// navy.mil and the namespace mil, with the built-in providers; block adds namespaces whose
// mail is refused (policy Reject).
func testGuard(t testing.TB, p guard.Policy, block ...string) *guard.Guard {
	t.Helper()
	var protected []address.Domain
	for _, n := range []string{"army.mil", "navy.mil"} {
		d, err := address.ParseDomain(n)
		if err != nil {
			t.Fatal(err)
		}
		protected = append(protected, d)
	}
	own, err := address.ParseDomain("contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Inputs{
		Own:                 []address.Domain{own},
		Protected:           protected,
		ProtectedNamespaces: []string{"mil"},
		Providers:           providers.Domains(),
		BlockNamespaces:     block,
	})
	if err != nil {
		t.Fatal(err)
	}
	return guard.New(eng, p)
}

func holdPolicy() guard.Policy   { return guard.DefaultPolicy() }
func rejectPolicy() guard.Policy { p := guard.DefaultPolicy(); p.Protected = guard.Reject; return p }
func monitorPolicy() guard.Policy {
	p := guard.DefaultPolicy()
	p.Monitor = true
	return p
}

func current(g *guard.Guard) *guard.Current {
	c := &guard.Current{}
	if g != nil {
		c.Store(g)
	}
	return c
}

// events collects the events a server observes.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) observe(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.list...)
}

// start serves s on a free loopback port until the test ends and returns its address.
func start(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ln.Addr().String()
}

// mta is the MTA side of one milter connection, speaking through the library's client.
type mta struct {
	t      testing.TB
	sess   *gomilter.ClientSession
	macros *gomilter.MacroBag
}

// smtpClient and localSubmission are the connect events of an SMTP client and of mail
// that Postfix's cleanup(8) got from sendmail(1).
var (
	smtpClient      = connectInfo{"client.example", gomilter.FamilyInet, 40123, "192.0.2.7", ""}
	localSubmission = connectInfo{"localhost", gomilter.FamilyInet, 0, "127.0.0.1", ""}
)

type connectInfo struct {
	host   string
	family gomilter.ProtoFamily
	port   uint16
	addr   string
	v      string // the macro v, the MTA's name and version
}

// dial opens a milter connection to addr and sends the connect event. opts are added to
// the client's options.
func dial(t testing.TB, addr string, ci connectInfo, opts ...gomilter.Option) *mta {
	t.Helper()
	macros := gomilter.NewMacroBag()
	macros.Set(gomilter.MacroMTAFQDN, "mta.example")
	if ci.v != "" {
		macros.Set(gomilter.MacroMTAVersion, ci.v)
	}
	client := gomilter.NewClient("tcp", addr, append([]gomilter.Option{gomilter.WithAction(gomilter.AllClientSupportedActionMasks)}, opts...)...)
	sess, err := client.Session(macros)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	if _, err := sess.Conn(ci.host, ci.family, ci.port, ci.addr); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Helo(ci.host); err != nil {
		t.Fatal(err)
	}
	return &mta{t: t, sess: sess, macros: macros}
}

// result is what the milter answered to one message.
type result struct {
	mail *gomilter.Action
	rcpt map[string]*gomilter.Action
	eom  *gomilter.Action // nil when the message did not get that far
	mods []gomilter.ModifyAction
}

// rcptReply returns the reply text to the recipient, "" when accepted.
func (r result) rcptReply(rcpt string) string {
	if a := r.rcpt[rcpt]; a != nil && a.StopProcessing() {
		return a.SMTPReply
	}
	return ""
}

// send sends one message, as an MTA does: every recipient, then, if one was accepted,
// the header and the body. rcptMailer sets the macro {rcpt_mailer} as smtpd does.
func (c *mta) send(from string, rcpts []string, header [][2]string, rcptMailer bool) result {
	c.t.Helper()
	return c.sendBody(from, rcpts, header, "Secret body text.\r\n", rcptMailer)
}

// sendBody is send with the body.
func (c *mta) sendBody(from string, rcpts []string, header [][2]string, body string, rcptMailer bool) result {
	c.t.Helper()
	res := result{rcpt: map[string]*gomilter.Action{}}
	c.macros.Set(gomilter.MacroMailAddr, from)
	act, err := c.sess.Mail(from, "")
	if err != nil {
		c.t.Fatal(err)
	}
	if res.mail = act; act.StopProcessing() {
		if err := c.sess.Abort(nil); err != nil { // as Postfix does
			c.t.Fatal(err)
		}
		return res
	}
	accepted := 0
	for _, r := range rcpts {
		c.macros.Set(gomilter.MacroRcptAddr, r)
		if rcptMailer {
			c.macros.Set(gomilter.MacroRcptMailer, "smtp")
		}
		act, err := c.sess.Rcpt(r, "")
		if err != nil {
			c.t.Fatal(err)
		}
		res.rcpt[r] = act
		if !act.StopProcessing() {
			accepted++
		}
	}
	if accepted == 0 {
		if err := c.sess.Abort(nil); err != nil {
			c.t.Fatal(err)
		}
		return res
	}
	if _, err := c.sess.DataStart(); err != nil {
		c.t.Fatal(err)
	}
	for _, h := range header {
		if _, err := c.sess.HeaderField(h[0], h[1], nil); err != nil {
			c.t.Fatal(err)
		}
	}
	if _, err := c.sess.HeaderEnd(); err != nil {
		c.t.Fatal(err)
	}
	c.macros.Set(gomilter.MacroQueueId, "4XyZ1234AB")
	mods, act, err := c.sess.BodyReadFrom(strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	res.eom, res.mods = act, mods
	return res
}

// headers returns the headers that mods add, by name.
func headers(mods []gomilter.ModifyAction) map[string]string {
	out := map[string]string{}
	for _, m := range mods {
		if m.Type == gomilter.ActionAddHeader {
			out[m.HeaderName] = m.HeaderValue
		}
	}
	return out
}

// jsonLogger returns a logger that writes JSON lines into buf, at every level.
func jsonLogger(buf *testenv.SyncBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
