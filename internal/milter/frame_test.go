package milter

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// frame frames one milter command.
func frame(code byte, data ...string) []byte {
	body := []byte{code}
	for _, d := range data {
		body = append(body, d...)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// optNeg is the MTA's negotiation: version 6, every action and protocol option offered.
var optNeg = frame('O', "\x00\x00\x00\x06", "\x00\x00\x01\xff", "\x00\x1f\xff\xff")

// rawExchange connects to addr, writes in (after the negotiation when negotiated), closes
// its writing side and reads until the server closes the connection. It fails the test
// when the server keeps the connection open.
func rawExchange(t testing.TB, addr string, negotiated bool, in []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if negotiated {
		if _, err := c.Write(optNeg); err != nil {
			t.Fatal(err)
		}
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatalf("no answer to the negotiation: %v", err)
		}
		if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(hdr[:]))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write(in); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	return out
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// TestMalformedPacketsCloseOnlyTheirConnection: four zero bytes on the milter port
// stopped the whole daemon (go-milter's ReadPacket sliced an empty packet); so did a
// CONNECT, MAIL or RCPT without its NUL. Each malformed input now closes its own
// connection, is logged, and the server goes on answering.
func TestMalformedPacketsCloseOnlyTheirConnection(t *testing.T) {
	logs := &testenv.SyncBuffer{}
	s := &Server{Guard: current(testGuard(t, holdPolicy())), Logger: jsonLogger(logs)}
	addr := start(t, s)
	huge := binary.BigEndian.AppendUint32(nil, 512<<20)
	for _, tc := range []struct {
		name       string
		negotiated bool
		in         []byte
		logged     string
	}{
		{"length 0 first", false, []byte{0, 0, 0, 0}, "a packet of length 0"},
		{"length 0", true, []byte{0, 0, 0, 0}, "a packet of length 0"},
		{"length 1, unknown command", true, []byte{0, 0, 0, 1, 'Z'}, "unknown command"},
		{"huge length", true, append(huge, 'B'), "a packet of 536870912 bytes"},
		{"truncated", true, append(binary.BigEndian.AppendUint32(nil, 100), "Bshort"...), ""},
		{"half a length", true, []byte{0, 0}, ""},
		{"connect without NUL", true, frame('C', "host"), "no host name and family"},
		{"connect without family", true, frame('C', "host\x00"), "no host name and family"},
		{"connect without port", true, frame('C', "host\x004\x00"), "no port"},
		{"mail without NUL", true, frame('M', "<a@b>"), "not NUL-terminated"},
		{"rcpt without NUL", true, frame('R', "<a@b>"), "not NUL-terminated"},
		{"header without value", true, frame('L', "Subject"), "not a name and a value"},
		{"short negotiation", false, frame('O', "\x00\x00\x00\x06"), "shorter than 12 bytes"},
		{"garbage", false, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "a packet of 1195725856 bytes"},
		{"nothing", true, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rawExchange(t, addr, tc.negotiated, tc.in)
			if tc.logged != "" && !bytes.Contains([]byte(logs.String()), []byte(tc.logged)) {
				t.Errorf("log has no %q:\n%s", tc.logged, logs.String())
			}
			// The server still answers a real MTA.
			r := dial(t, addr, smtpClient).send("alice@army.mil", []string{"bob@army.mil"}, nil, true)
			if r.eom == nil || r.eom.Type != gomilter.ActionAccept {
				t.Fatalf("after %s, a good message got %+v", tc.name, r.eom)
			}
		})
	}
}

func TestCheckPacketAcceptsWhatMTAsSend(t *testing.T) {
	for _, p := range [][]byte{
		frame('C', "client.example\x00", "4", "\x9c\xbb", "192.0.2.7\x00"),
		frame('C', "localhost\x00", "U"),
		frame('M', "<alice@army.mil>\x00", "SIZE=10\x00"),
		frame('R', "<bob@army.ml>\x00"),
		frame('H', "client.example\x00"),
		frame('D', "M", "{mail_addr}\x00alice@army.mil\x00"),
		frame('L', "Subject\x00", "hello\x00"),
		frame('L', "X-Empty\x00", "\x00"),
		frame('B', "body"), frame('B'), frame('E'), frame('N'), frame('T'), frame('A'), frame('Q'), frame('K'),
		frame('U', "XCMD\x00"),
		optNeg,
	} {
		if err := checkPacket(p[4], p[5:]); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
}

// FuzzMilterConnection: whatever an MTA (or anyone who reaches the port) sends after a
// valid negotiation, the server does not panic (a panic in the library's goroutine would
// end this test binary) and closes the connection once the input ends.
func FuzzMilterConnection(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	f.Add(frame('C', "host"))
	f.Add(append(frame('C', "client.example\x00", "4", "\x9c\xbb", "192.0.2.7\x00"), frame('M', "<alice@army.mil>\x00")...))
	f.Add(append(append(frame('M', "<a@army.mil>\x00"), frame('R', "<b@army.ml>\x00")...), frame('L', "Subject\x00x\x00")...))
	f.Add(append(frame('D', "R"), frame('R', "\x00")...))
	f.Add(frame('T'))
	f.Add([]byte("\x00\x00\x00\x02L\x00"))
	s := &Server{Guard: current(testGuard(f, holdPolicy())), Holder: holderFunc(func(context.Context, held.Submission) (string, error) {
		return "id", nil
	})}
	addr := start(f, s)
	f.Fuzz(func(t *testing.T, in []byte) {
		rawExchange(t, addr, true, in)
	})
}
