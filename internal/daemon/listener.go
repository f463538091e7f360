package daemon

import (
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/connlimit"
)

// countingListener keeps a gauge of its open connections
// (rcptguard_listener_connections).
type countingListener struct {
	net.Listener
	open prometheus.Gauge
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Inc()
	return &countedConn{Conn: c, open: l.open}, nil
}

type countedConn struct {
	net.Conn
	open prometheus.Gauge
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(c.open.Dec)
	return c.Conn.Close()
}

// limitListener caps the open connections of the listener name as lim says
// (limits.max_connections, limits.max_connections_per_client). A refused connection is
// counted in rcptguard_listener_refused_total; SMTP listeners answer it 421 4.7.0, HTTP
// ones 503, the milter and the policy service just close it.
func (d *Daemon) limitListener(name string, l net.Listener, lim config.Limits) net.Listener {
	var reply func(net.Conn, string)
	switch name {
	case "relay", "intake":
		reply = connlimit.SMTPReply
	case "http", "web":
		reply = connlimit.HTTPReply
	}
	refused := func(reason string) { d.Metrics.Refused.WithLabelValues(name, reason).Inc() }
	return connlimit.New(l, connlimit.Config{
		Max: lim.MaxConnections, MaxPerClient: lim.MaxConnectionsPerClient,
		Reply: reply, Refused: refused, Logger: d.Logger, Name: name,
	})
}
