package milter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// MaxPacketBytes bounds one milter packet from the MTA. MTAs send body chunks of 64 KiB
// (at most 1 MiB where both sides negotiate it) and header fields below Postfix's
// header_size_limit (100 KiB by default); a larger packet is a protocol error. The
// library alone would allocate up to 512 MiB for any packet's announced length.
const MaxPacketBytes = 2 << 20

// ErrFraming is behind every protocol error that framedConn finds.
var ErrFraming = errors.New("milter protocol error")

// framedListener hands out connections whose input is checked by framedConn.
type framedListener struct {
	net.Listener
	onError func(remote string, err error)
}

func (l framedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framedConn{Conn: c, onError: l.onError}, nil
}

// framedConn checks each packet the MTA sends before the milter library reads it: a
// 4-byte length, a command byte and its data. The library (go-milter v0.10.2) trusts both
// the length (a zero length made it panic and stop the whole daemon) and the layout of
// some commands (a CONNECT, MAIL or RCPT without its NUL terminator panics too). A packet
// that fails the check is a protocol error: the library sees a read error and closes the
// connection; nothing of the packet reaches it.
//
// Reads go to the underlying connection, so the library's read deadlines apply.
type framedConn struct {
	net.Conn
	onError func(remote string, err error)
	pkt     []byte // the packet being handed out, length included
	off     int
	err     error
}

func (c *framedConn) Read(p []byte) (int, error) {
	if c.off == len(c.pkt) {
		if c.err != nil {
			return 0, c.err
		}
		if err := c.next(); err != nil {
			c.err = err
			if errors.Is(err, ErrFraming) && c.onError != nil {
				c.onError(c.RemoteAddr().String(), err)
			}
			return 0, err
		}
	}
	n := copy(p, c.pkt[c.off:])
	c.off += n
	return n, nil
}

// next reads and checks the next whole packet.
func (c *framedConn) next() error {
	var hdr [4]byte
	if _, err := io.ReadFull(c.Conn, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return fmt.Errorf("%w: a packet of length 0", ErrFraming)
	}
	if n > MaxPacketBytes {
		return fmt.Errorf("%w: a packet of %d bytes (at most %d)", ErrFraming, n, MaxPacketBytes)
	}
	if cap(c.pkt) < int(n)+4 || cap(c.pkt) > 64<<10 && int(n)+4 <= 64<<10 {
		c.pkt = make([]byte, int(n)+4) // a large buffer is not kept for small packets
	}
	c.pkt, c.off = c.pkt[:int(n)+4], 0
	copy(c.pkt, hdr[:])
	if _, err := io.ReadFull(c.Conn, c.pkt[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		c.pkt = c.pkt[:0]
		return err
	}
	if err := checkPacket(c.pkt[4], c.pkt[5:]); err != nil {
		c.pkt = c.pkt[:0]
		return err
	}
	return nil
}

// checkPacket checks the layout of one command from the MTA (the milter protocol as
// Sendmail's libmilter and Postfix speak it: strings end in NUL).
func checkPacket(code byte, data []byte) error {
	bad := func(what string) error {
		return fmt.Errorf("%w: command %q: %s", ErrFraming, code, what)
	}
	switch code {
	case 'O': // option negotiation: version, actions, protocol
		if len(data) < 12 {
			return bad("shorter than 12 bytes")
		}
	case 'C': // connect: host name NUL, family, then for L/4/6 a port and an address
		i := bytes.IndexByte(data, 0)
		if i < 0 || i+1 >= len(data) {
			return bad("no host name and family")
		}
		if f := data[i+1]; (f == 'L' || f == '4' || f == '6') && len(data) < i+4 {
			return bad("no port")
		}
	case 'M', 'R', 'H': // MAIL FROM, RCPT TO, HELO: an address or a name, NUL-terminated
		if bytes.IndexByte(data, 0) < 0 {
			return bad("not NUL-terminated")
		}
	case 'D': // macros: the command they belong to, then name NUL value NUL pairs
		if len(data) == 0 {
			return bad("no command")
		}
	case 'L': // header field: name NUL value NUL
		if len(data) < 2 || data[len(data)-1] != 0 || bytes.Count(data, []byte{0}) != 2 {
			return bad("not a name and a value")
		}
	case 'B', 'E', 'N', 'T', 'A', 'Q', 'K', 'U':
	default:
		return bad("unknown command")
	}
	return nil
}
