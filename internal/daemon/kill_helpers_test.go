package daemon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// buildServeBinary builds cmd/rcptguard (CGO_ENABLED=0, as shipped) into a temporary
// folder and returns its path. It skips the test in -short mode.
func buildServeBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the rcptguard binary")
	}
	bin := filepath.Join(t.TempDir(), "rcptguard")
	build := exec.Command("go", "build", "-o", bin, "github.com/rcptguard/rcptguard/cmd/rcptguard")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// killEnv is one rcptguard installation for the kill tests: a config with fixed ports,
// its data folder, the sink that gets relayed and re-injected mail and the sink that gets
// the notices.
type killEnv struct {
	dir, cfg, dataDir string
	relay             string // host:port of the relay listener, the same across restarts
	mail, notices     *testenv.Sink
}

func newKillEnv(t *testing.T) *killEnv {
	t.Helper()
	e := &killEnv{dir: t.TempDir(), mail: testenv.StartSink(t), notices: testenv.StartSink(t)}
	e.dataDir = filepath.Join(e.dir, "data")
	e.cfg = filepath.Join(e.dir, "rcptguard.yaml")
	e.relay = "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cfg := "protect: [army.mil, .mil]\n" +
		"own_domains: [contoso.com]\n" +
		"data_dir: " + e.dataDir + "\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n" +
		"  relay: " + e.relay + "\n" +
		"relay:\n  upstream: " + e.mail.Addr() + "\n  hostname: relay.test\n" +
		"quarantine:\n  reinject: " + e.mail.Addr() + "\n" +
		"notice:\n  smarthost: " + e.notices.Addr() + "\n  hostname: rcptguard.test\n"
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// openStore opens the quarantine the daemon writes, from the test process (SQLite in WAL
// mode lets both use it at once), and closes it when the test ends.
func (e *killEnv) openStore(t *testing.T) *quarantine.SQLite {
	t.Helper()
	s, err := quarantine.OpenSQLite(filepath.Join(e.dataDir, quarantine.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// listAll lists every message in state (quarantine.None: every state), page by page.
func listAll(ctx context.Context, store quarantine.Store, state quarantine.State) ([]quarantine.Message, error) {
	var out []quarantine.Message
	for off := 0; ; off += quarantine.MaxListLimit {
		l, err := store.List(ctx, quarantine.Filter{State: state, Limit: quarantine.MaxListLimit, Offset: off})
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
		if len(l) < quarantine.MaxListLimit {
			return out, nil
		}
	}
}

// serveProc runs `rcptguard serve` as a child process, SIGKILLs it and starts it again
// on the same config. Its methods are safe for concurrent use.
type serveProc struct {
	bin string
	env *killEnv
	log *testenv.SyncBuffer // stderr of every run, each line prefixed with the run's number

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed once the current run has ended
	runs   int
	kills  int
}

// startServe starts rcptguard and waits until its relay listens; it is killed when the
// test ends.
func startServe(t *testing.T, bin string, env *killEnv) *serveProc {
	t.Helper()
	p := &serveProc{bin: bin, env: env, log: &testenv.SyncBuffer{}}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("rcptguard's log (last 8000 bytes):\n%s", tail(p.log.String(), 8000))
		}
	})
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// start starts a new run and returns once it logged that the relay listens (every
// listener is bound by then, and the quarantine's background loop runs).
func (p *serveProc) start() error {
	p.mu.Lock()
	p.runs++
	run := p.runs
	p.mu.Unlock()
	cmd := exec.Command(p.bin, "serve", "--config", p.env.cfg)
	cmd.Stdout = p.log
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	listening, exited := make(chan struct{}), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintf(p.log, "[run %d] %s\n", run, line)
			if !seen && strings.Contains(line, "msg=listening listener=relay addr="+p.env.relay) {
				seen = true
				close(listening)
			}
		}
		io.Copy(io.Discard, stderr) // a line too long for the scanner
		err := cmd.Wait()
		fmt.Fprintf(p.log, "[run %d] exited: %v\n", run, err)
		close(exited)
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case <-listening:
	case <-exited:
		return fmt.Errorf("rcptguard (run %d) ended before its relay listened:\n%s", run, tail(p.log.String(), 4000))
	case <-timeout.C:
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("rcptguard (run %d) did not listen within 30 s:\n%s", run, tail(p.log.String(), 4000))
	}
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return nil
}

// errExitedByItself: the run ended without being killed.
var errExitedByItself = errors.New("rcptguard ended by itself")

// kill SIGKILLs the current run and waits until it has ended. It fails with
// errExitedByItself (and still clears the run) if the run had ended before the signal.
func (p *serveProc) kill() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd, p.exited = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return errExitedByItself
	default:
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	p.mu.Lock()
	p.kills++
	p.mu.Unlock()
	return nil
}

// restart kills the current run and starts a new one.
func (p *serveProc) restart() error {
	if err := p.kill(); err != nil {
		return err
	}
	return p.start()
}

// running reports whether the current run is alive.
func (p *serveProc) running() bool {
	p.mu.Lock()
	exited := p.exited
	p.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

func (p *serveProc) killCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kills
}

// waitUntil polls cond every 50 ms until it holds, failing the test with cond's last
// description after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, state)
		}
		time.Sleep(50 * time.Millisecond) // the poll interval; the condition is what is waited for
	}
}

// heldID is the quarantine ID in the relay's reply "Ok, held as ID: ...", "" without one.
func heldID(text string) string {
	_, rest, ok := strings.Cut(text, "held as ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ":")
	return strings.TrimSpace(id)
}

// releasedID is the quarantine ID a re-injected message names in its released header.
func releasedID(m testenv.Message, header string) string {
	id, _, _ := strings.Cut(m.Header(header), ";")
	return strings.TrimSpace(id)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// withoutFirstField is raw without its first header field (with its continuation lines):
// a held message without the relay's Received trace header.
func withoutFirstField(raw []byte) []byte {
	i := 0
	for {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return nil
		}
		i += j + 1
		if i >= len(raw) || (raw[i] != ' ' && raw[i] != '\t') {
			return raw[i:]
		}
	}
}
