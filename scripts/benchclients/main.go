// Command benchclients measures what many slow BDAT clients cost `rcptguard serve`: it
// starts the given binary with the relay on (in front of a sink of its own), opens
// -clients connections that each send -chunks BDAT chunks of -size bytes without LAST
// and keep the connection open, and prints the process's resident memory (VmRSS, and
// the peak VmHWM from /proc/PID/status) before and under that load, and the files in
// the spool folder. scripts/bench-clients.sh runs it.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	bin := flag.String("bin", "", "the rcptguard binary")
	clients := flag.Int("clients", 100, "concurrent clients")
	chunks := flag.Int("chunks", 9, "BDAT chunks per client, none of them LAST")
	size := flag.Int("size", 100_000, "bytes per chunk")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required")
	}
	dir, err := os.MkdirTemp("", "bench-clients-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	sink := startSink()
	relayAddr := freeAddr()
	cfg := fmt.Sprintf("protect: [army.mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: %s\n  web: off\n  intake: off\n  relay: %s\n"+
		"relay:\n  upstream: %s\n  hostname: relay.bench\n  max_message_bytes: 37748736\n", freeAddr(), relayAddr, sink)
	cfgPath := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(*bin, "serve", "--config", cfgPath)
	logf, _ := os.Create(filepath.Join(dir, "serve.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitListening(relayAddr)
	pid := cmd.Process.Pid
	before := status(pid)

	line := strings.Repeat("x", 98) + "\r\n"
	chunk := strings.Repeat(line, *size/len(line)+1)[:*size-2] + "\r\n"
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns, failed := []net.Conn{}, 0
	start := time.Now()
	for i := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := client(relayAddr, i, *chunks, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				log.Printf("client %d: %v", i, err)
				return
			}
			conns = append(conns, c)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	under := status(pid)
	spooled, spoolBytes := spoolFiles(filepath.Join(dir, "data", "spool"))
	fmt.Printf("clients %d (failed %d), %d x %d bytes BDAT each without LAST, sent in %v\n",
		*clients, failed, *chunks, *size, took.Round(time.Millisecond))
	fmt.Printf("before: VmRSS %s  VmHWM %s\n", before["VmRSS"], before["VmHWM"])
	fmt.Printf("loaded: VmRSS %s  VmHWM %s\n", under["VmRSS"], under["VmHWM"])
	fmt.Printf("spool files: %d, %d bytes\n", spooled, spoolBytes)
	for _, c := range conns {
		c.Close()
	}
}

// client opens a relay transaction and sends chunks BDAT chunks without LAST.
func client(addr string, i, chunks int, chunk string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	r := bufio.NewReader(c)
	reply := func() (string, error) {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return l, err
			}
			if len(l) < 4 || l[3] != '-' {
				return l, nil
			}
		}
	}
	if l, err := reply(); err != nil || !strings.HasPrefix(l, "220") {
		c.Close()
		return nil, fmt.Errorf("greeting %q: %v", l, err)
	}
	for _, cmd := range []string{"EHLO bench.test", "MAIL FROM:<a@contoso.com>", fmt.Sprintf("RCPT TO:<user%d@army.mil>", i)} {
		fmt.Fprintf(c, "%s\r\n", cmd)
		if l, err := reply(); err != nil || !strings.HasPrefix(l, "250") {
			c.Close()
			return nil, fmt.Errorf("%s: %q: %v", cmd, l, err)
		}
	}
	for k := range chunks {
		fmt.Fprintf(c, "BDAT %d\r\n%s", len(chunk), chunk)
		if l, err := reply(); err != nil || !strings.HasPrefix(l, "250") {
			c.Close()
			return nil, fmt.Errorf("chunk %d: %q: %v", k, l, err)
		}
	}
	return c, nil
}

// status reads the memory lines of /proc/PID/status.
func status(pid int) map[string]string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		log.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.HasPrefix(k, "Vm") {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

func spoolFiles(dir string) (n int, size int64) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n++
			size += fi.Size()
		}
	}
	return n, size
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(addr string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("%s not listening after 30 s", addr)
}

// startSink runs an upstream that accepts and discards every message.
func startSink() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{}, nil }))
	s.Domain = "sink.bench"
	s.AllowInsecureAuth = true
	go s.Serve(l)
	return l.Addr().String()
}

type sinkSession struct{}

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }
