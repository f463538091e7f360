// Package connlimit caps the open connections of a listener, in all and per client
// address, so that what clients can make a server hold stays bounded whatever they do.
// A connection past a cap is refused right at accept: it gets a short answer of the
// listener's protocol (SMTP 421, HTTP 503, or nothing) from a goroutine of its own, and is
// closed, while the accept loop goes on at once.
package connlimit

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rcptguard/rcptguard/internal/ratelimit"
)

// Reasons for a refusal, as the metric's reason label.
const (
	ReasonMaxConnections          = "max_connections"
	ReasonMaxConnectionsPerClient = "max_connections_per_client"
)

// Defaults of Config's zero fields.
const (
	DefaultLogEvery     = time.Minute
	DefaultReplyTimeout = 2 * time.Second
	// maxReplying bounds the goroutines writing refusals; past it a refused connection
	// is closed without an answer.
	maxReplying = 64
)

// Config says what a Listener allows and how it refuses.
type Config struct {
	// Max bounds the open connections in all; MaxPerClient those of one client address
	// (an IPv6 client's /64). Zero or less: no bound.
	Max, MaxPerClient int
	// Reply, if set, writes the refusal to a refused connection (see SMTPReply and
	// HTTPReply); the connection is closed after it.
	Reply func(c net.Conn, reason string)
	// ReplyTimeout bounds the write of a refusal; 0: DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// Refused, if set, is called once per refused connection with the reason. It must
	// not block.
	Refused func(reason string)
	// Logger gets a line about refused connections at most every LogEvery (0:
	// DefaultLogEvery), with how many were refused since the last one. Nil: no log.
	Logger   *slog.Logger
	LogEvery time.Duration
	// Name names the listener in the log.
	Name string
}

// Listener is a net.Listener with caps on its open connections.
type Listener struct {
	net.Listener
	cfg Config

	mu       sync.Mutex
	open     int
	byClient map[string]int

	replying chan struct{}
	refused  atomic.Int64 // since the last log line
	lastLog  atomic.Int64 // unix nanoseconds
}

// New wraps l.
func New(l net.Listener, cfg Config) *Listener {
	return &Listener{Listener: l, cfg: cfg, byClient: map[string]int{}, replying: make(chan struct{}, maxReplying)}
}

// Accept returns the next connection within the caps; the others are refused on the way.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		reason := l.admit(key)
		if reason == "" {
			return &conn{Conn: c, l: l, key: key}, nil
		}
		l.refuse(c, reason)
	}
}

// Open is the number of open connections.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// admit counts a new connection from key, or returns why it is refused.
func (l *Listener) admit(key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg.Max > 0 && l.open >= l.cfg.Max {
		return ReasonMaxConnections
	}
	if key != "" && l.cfg.MaxPerClient > 0 && l.byClient[key] >= l.cfg.MaxPerClient {
		return ReasonMaxConnectionsPerClient
	}
	l.open++
	if key != "" {
		l.byClient[key]++
	}
	return ""
}

func (l *Listener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if key == "" {
		return
	}
	if n := l.byClient[key] - 1; n > 0 {
		l.byClient[key] = n
	} else {
		delete(l.byClient, key)
	}
}

// refuse answers and closes c without holding up the accept loop, counts it and logs
// now and then.
func (l *Listener) refuse(c net.Conn, reason string) {
	if l.cfg.Refused != nil {
		l.cfg.Refused(reason)
	}
	l.logRefused(reason)
	if l.cfg.Reply == nil {
		c.Close()
		return
	}
	select {
	case l.replying <- struct{}{}:
	default:
		c.Close() // too many refusals in flight: no answer
		return
	}
	go func() {
		defer func() { <-l.replying }()
		defer c.Close()
		timeout := l.cfg.ReplyTimeout
		if timeout <= 0 {
			timeout = DefaultReplyTimeout
		}
		c.SetDeadline(time.Now().Add(timeout))
		l.cfg.Reply(c, reason)
	}()
}

func (l *Listener) logRefused(reason string) {
	n := l.refused.Add(1)
	if l.cfg.Logger == nil {
		return
	}
	every := l.cfg.LogEvery
	if every <= 0 {
		every = DefaultLogEvery
	}
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < int64(every) || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	n = l.refused.Swap(0)
	l.cfg.Logger.Warn("connections refused: too many open", "listener", l.cfg.Name, "reason", reason,
		"refused", n, "max_connections", l.cfg.Max, "max_connections_per_client", l.cfg.MaxPerClient)
}

// conn gives its place back when closed.
type conn struct {
	net.Conn
	l    *Listener
	key  string
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key) })
	return err
}

// clientKey is the limit key of a TCP client (ratelimit.ClientKey: the address, or its
// /64 for IPv6); "" for other connections, which share no per-client bound.
func clientKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.AddrPort().Addr().IsValid() {
		return ""
	}
	return ratelimit.ClientKey(ta.AddrPort().Addr())
}

// SMTPReply answers "421 4.7.0 <reason>, try again later", as an SMTP server's greeting.
func SMTPReply(c net.Conn, reason string) {
	c.Write([]byte("421 4.7.0 " + text(reason) + ", try again later\r\n"))
}

// HTTPReply answers a minimal 503 Service Unavailable once the request's header is in
// (at most 8 KiB of it is read): a client reads no answer before it sent its request.
func HTTPReply(c net.Conn, reason string) {
	br := bufio.NewReaderSize(io.LimitReader(c, 8<<10), 1024)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil || len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	body := text(reason) + ", try again later\n"
	c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
}

func text(reason string) string {
	if reason == ReasonMaxConnectionsPerClient {
		return "Too many connections from your address"
	}
	return "Too many connections"
}
