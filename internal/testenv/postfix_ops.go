package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pollInterval is how often the Wait* methods look at the queue or log.
const pollInterval = 50 * time.Millisecond

// SMTPAddr returns the 127.0.0.1:port of the instance's smtpd.
func (p *Postfix) SMTPAddr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// Dir returns the instance's folder (with etc/, queue/, data/, log/).
func (p *Postfix) Dir() string { return p.dir }

// ConfigDir returns the folder with main.cf and master.cf, for `-c`.
func (p *Postfix) ConfigDir() string { return p.etc }

// Hostname returns the instance's myhostname.
func (p *Postfix) Hostname() string { return p.hostname }

// Log returns the instance's maillog so far.
func (p *Postfix) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log", "maillog"))
	return string(b)
}

// Command returns a command for the Postfix tool name (postfix, postqueue,
// postsuper, postcat, postconf, ...) from /usr/sbin with `-c ConfigDir()`
// before args.
func (p *Postfix) Command(name string, args ...string) *exec.Cmd {
	return p.commandContext(context.Background(), name, args...)
}

func (p *Postfix) commandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(commandDir, name), append([]string{"-c", p.etc}, args...)...)
	cmd.Env = cleanEnv()
	return cmd
}

// cleanEnv is the environment without MAIL_CONFIG, which would point the
// Postfix tools elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAIL_CONFIG=") {
			env = append(env, kv)
		}
	}
	return env
}

// Sendmail submits msg with `/usr/sbin/sendmail -C ConfigDir() -i -f from --
// rcpts...`, so it enters through postdrop and pickup (and non_smtpd_milters,
// not smtpd's restrictions or policy services).
func (p *Postfix) Sendmail(t testing.TB, from string, rcpts []string, msg []byte) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	args := append([]string{"-C", p.etc, "-i", "-f", from, "--"}, rcpts...)
	cmd := exec.CommandContext(ctx, sendmailCmd, args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = bytes.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sendmail: %w: %s", err, out)
	}
	return nil
}

// Flush asks Postfix to retry every queued message now (postqueue -f),
// including deferred ones, and forgets destinations marked dead.
func (p *Postfix) Flush() error {
	if out, err := p.Command("postqueue", "-f").CombinedOutput(); err != nil {
		return fmt.Errorf("postqueue -f: %w: %s", err, out)
	}
	return nil
}

// QueueEntry is one message in the queue, as `postqueue -j` reports it.
type QueueEntry struct {
	QueueName   string           `json:"queue_name"` // incoming, active, deferred, hold, ...
	QueueID     string           `json:"queue_id"`
	ArrivalTime int64            `json:"arrival_time"`
	MessageSize int64            `json:"message_size"`
	Sender      string           `json:"sender"`
	Recipients  []QueueRecipient `json:"recipients"`
}

// QueueRecipient is one recipient of a queued message.
type QueueRecipient struct {
	Address     string `json:"address"`
	DelayReason string `json:"delay_reason"` // why the last attempt failed
}

// Queue lists the queued messages (postqueue -j).
func (p *Postfix) Queue() ([]QueueEntry, error) {
	var stderr bytes.Buffer
	cmd := p.Command("postqueue", "-j")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("postqueue -j: %w: %s", err, stderr.Bytes())
	}
	var q []QueueEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e QueueEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("postqueue -j: %w: %s", err, sc.Bytes())
		}
		q = append(q, e)
	}
	return q, sc.Err()
}

// WaitQueue polls the queue until cond holds for it and returns it, or
// returns the last queue seen and an error when ctx ends.
func (p *Postfix) WaitQueue(ctx context.Context, cond func([]QueueEntry) bool) ([]QueueEntry, error) {
	for {
		q, err := p.Queue()
		if err == nil && cond(q) {
			return q, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return q, fmt.Errorf("waiting for the Postfix queue: %w", err)
		case <-time.After(pollInterval):
		}
	}
}

// WaitQueueEmpty waits until the queue is empty or ctx ends.
func (p *Postfix) WaitQueueEmpty(ctx context.Context) error {
	q, err := p.WaitQueue(ctx, func(q []QueueEntry) bool { return len(q) == 0 })
	if err != nil {
		return fmt.Errorf("%w; still queued: %+v", err, q)
	}
	return nil
}

// WaitLog waits until the maillog contains substr or ctx ends.
func (p *Postfix) WaitLog(ctx context.Context, substr string) error {
	for {
		if strings.Contains(p.Log(), substr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("maillog has no %q: %w", substr, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// Stop stops the instance (postfix stop) and waits until all its processes
// are gone. StartPostfix registers it with t.Cleanup; calling it earlier is
// allowed and later calls do nothing. If the test failed, the maillog is
// logged first.
func (p *Postfix) Stop() {
	p.stopOnce.Do(func() {
		if p.t.Failed() {
			p.t.Logf("testenv: maillog of the Postfix in %s:\n%s", p.dir, p.Log())
		}
		master := p.masterPID()
		if master <= 0 {
			return
		}
		if out, err := p.Command("postfix", "stop").CombinedOutput(); err != nil {
			p.t.Errorf("testenv: postfix -c %s stop: %v: %s", p.etc, err, out)
		}
		// postfix stop returns once the master is gone; its children may
		// still be running in the folder that t.TempDir is about to remove.
		deadline := time.Now().Add(10 * time.Second)
		for {
			left := processGroup(master)
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for _, pid := range left {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				p.t.Logf("testenv: killed Postfix processes %v left after stop", left)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// masterPID returns the PID of the running master, or 0.
func (p *Postfix) masterPID() int {
	b, err := os.ReadFile(filepath.Join(p.dir, "queue", "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if _, _, ok := procStat(pid); !ok {
		return 0
	}
	return pid
}

// processGroup lists the live (not zombie) processes of process group pgid.
func processGroup(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if g, state, ok := procStat(pid); ok && g == pgid && state != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat returns the process group and state of pid from /proc/PID/stat;
// ok is false for a process that is gone or a zombie.
func procStat(pid int) (pgrp int, state string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, "", false
	}
	pgrp, _ = strconv.Atoi(f[2])
	return pgrp, f[0], f[0] != "Z"
}

// NextHop turns host:port into [host]:port, a Postfix next hop (relayhost, transport_maps)
// reached without an MX lookup.
func NextHop(t testing.TB, addr string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return "[" + host + "]:" + port
}
