package daemon

import (
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
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
