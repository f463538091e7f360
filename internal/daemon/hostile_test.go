package daemon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostileDaemon is a daemon with every listener on, started once per test binary for the
// hostile-input tests (the fuzz target runs many inputs against the same daemon).
var hostileDaemon = struct {
	once sync.Once
	d    *Daemon
	dir  string
	err  error
}{}

func TestMain(m *testing.M) {
	code := m.Run()
	if d := hostileDaemon.d; d != nil {
		d.Shutdown(context.Background())
	}
	if hostileDaemon.dir != "" {
		os.RemoveAll(hostileDaemon.dir)
	}
	os.Exit(code)
}

func startHostileDaemon(t testing.TB) *Daemon {
	t.Helper()
	hostileDaemon.once.Do(func() {
		dir, err := os.MkdirTemp("", "rcptguard-hostile-")
		if err != nil {
			hostileDaemon.err = err
			return
		}
		hostileDaemon.dir = dir
		cfg := "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: 127.0.0.1:0\n  milter: 127.0.0.1:0\n" +
			"  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n  relay: 127.0.0.1:0\n" +
			"relay:\n  upstream: 127.0.0.1:9\n  hostname: relay.test\n"
		path := filepath.Join(dir, "rcptguard.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			hostileDaemon.err = err
			return
		}
		d := &Daemon{ConfigPath: path}
		hostileDaemon.d, hostileDaemon.err = d, d.Start()
	})
	if hostileDaemon.err != nil {
		t.Fatal(hostileDaemon.err)
	}
	return hostileDaemon.d
}

// hostileListeners are the listeners under test, each with a probe that a healthy
// listener answers.
var hostileListeners = []struct {
	name  string
	probe func(c net.Conn, br *bufio.Reader) error
}{
	{"policy", probePolicy},
	{"milter", probeMilter},
	{"relay", probeSMTP},
	{"intake", probeSMTP},
	{"http", probeHTTP("/metrics", 200)},
	{"web", probeHTTP("/admin/login", 200)},
}

func probePolicy(c net.Conn, br *bufio.Reader) error {
	io.WriteString(c, "request=smtpd_access_policy\nprotocol_state=RCPT\ninstance=p.1\nsender=a@contoso.com\nrecipient=alice@army.mil\n\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "action=DUNNO\n" {
		return fmt.Errorf("policy answered %q, %v", line, err)
	}
	return nil
}

func milterPacket(code byte, data string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(data)+1)), append([]byte{code}, data...)...)
}

func probeMilter(c net.Conn, br *bufio.Reader) error {
	c.Write(milterPacket('O', "\x00\x00\x00\x06\x00\x00\x01\xff\x00\x1f\xff\xff"))
	var hdr [5]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr[4] != 'O' {
		return fmt.Errorf("milter negotiation answered %q, %v", hdr, err)
	}
	return nil
}

func probeSMTP(c net.Conn, br *bufio.Reader) error {
	greeting, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "220 ") {
		return fmt.Errorf("greeting %q, %v", greeting, err)
	}
	io.WriteString(c, "EHLO probe.test\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "250") {
			return fmt.Errorf("EHLO answered %q, %v", line, err)
		}
		if line[3] == ' ' {
			break
		}
	}
	io.WriteString(c, "QUIT\r\n")
	return nil
}

func probeHTTP(path string, want int) func(net.Conn, *bufio.Reader) error {
	return func(c net.Conn, br *bufio.Reader) error {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	}
}

// probe checks that listener name of d answers as it should.
func probe(t testing.TB, d *Daemon, name string) {
	t.Helper()
	for _, l := range hostileListeners {
		if l.name != name {
			continue
		}
		c, err := net.DialTimeout("tcp", d.Addr(name), 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		err = l.probe(c, bufio.NewReader(c))
		c.Close()
		if err != nil {
			t.Fatalf("%s does not answer: %v", name, err)
		}
		return
	}
	t.Fatalf("no listener %s", name)
}

// sendHostile writes in to listener name, half-closes the connection and reads until
// the daemon closes it. It fails when the daemon keeps the connection open.
func sendHostile(t testing.TB, d *Daemon, name string, in []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", d.Addr(name), 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	c.Write(in) // the daemon may close the connection before it has read it all
	c.(*net.TCPConn).CloseWrite()
	if _, err := io.Copy(io.Discard, c); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s kept the connection open after %d bytes and the end of the input", name, len(in))
		}
	}
}

// hostileInputs are malformed framings and garbage, for every listener.
func hostileInputs() map[string][]byte {
	garbage := make([]byte, 4096)
	rand.Read(garbage)
	return map[string][]byte{
		"length 0":       {0, 0, 0, 0},
		"length 1":       {0, 0, 0, 1, 'Z'},
		"one byte":       {0},
		"truncated":      append(binary.BigEndian.AppendUint32(nil, 100), "Bshort"...),
		"huge length":    append(binary.BigEndian.AppendUint32(nil, 0x7fffffff), 'B'),
		"garbage":        garbage,
		"half-closed":    nil,
		"NULs":           bytes.Repeat([]byte{0}, 1000),
		"long line":      bytes.Repeat([]byte("A"), 2<<20),
		"TLS hello":      []byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
		"HTTP":           []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"SMTP":           []byte("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@army.ml>\r\nDATA\r\n"),
		"policy partial": []byte("request=smtpd_access_policy\nprotocol_state=RCPT\n"),
		"CR LF only":     bytes.Repeat([]byte("\r\n"), 5000),
	}
}

// TestHostileInputStopsNoListener: four zero bytes on the milter port stopped the whole
// daemon. Every malformed framing and garbage on every listener now closes (or answers)
// that connection only; afterwards every listener still answers, and nothing panicked.
func TestHostileInputStopsNoListener(t *testing.T) {
	d := startHostileDaemon(t)
	for _, l := range hostileListeners {
		for what, in := range hostileInputs() {
			t.Run(l.name+"/"+what, func(t *testing.T) {
				sendHostile(t, d, l.name, in)
			})
		}
	}
	for _, l := range hostileListeners {
		probe(t, d, l.name)
	}
	body := getBody(t, "http://"+d.Addr("http")+"/metrics")
	for _, l := range hostileListeners {
		if want := `rcptguard_panics_total{listener="` + l.name + `"} 0`; !strings.Contains(body, want) {
			t.Errorf("metrics have no %s", want)
		}
	}
	select {
	case err := <-d.Errors():
		t.Fatalf("a listener failed: %v", err)
	default:
	}
}

// FuzzListeners sends any bytes to any listener of a running daemon: the connection ends
// once the input ends, and the listener still answers.
func FuzzListeners(f *testing.F) {
	for i := range hostileListeners {
		for _, in := range hostileInputs() {
			if len(in) < 5000 {
				f.Add(uint8(i), in)
			}
		}
	}
	d := startHostileDaemon(f)
	f.Fuzz(func(t *testing.T, which uint8, in []byte) {
		l := hostileListeners[int(which)%len(hostileListeners)]
		sendHostile(t, d, l.name, in)
		probe(t, d, l.name)
	})
}
