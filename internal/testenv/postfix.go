package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartTimeout bounds `postfix start` and the wait for its SMTP port.
const StartTimeout = 60 * time.Second

// Options configure a private Postfix instance.
type Options struct {
	// RelayHost is the host:port (e.g. a Sink's Addr) that all mail is
	// relayed to, without MX lookup. Empty: mail is accepted and stays in
	// the deferred queue (defer_transports).
	RelayHost string
	// ExtraMain are main.cf lines appended to the generated ones. A line
	// "name = value" replaces the generated setting of that name; lines
	// starting with white space continue the previous line.
	ExtraMain []string
	// ExtraMaster are master.cf lines appended to the generated services,
	// e.g. a content filter's re-injection smtpd.
	ExtraMaster []string
}

// Postfix is a private Postfix instance that runs from a folder of its own
// (etc/, queue/, data/, log/) with an smtpd on 127.0.0.1. Start one with
// StartPostfix; it is stopped when the test ends. Several may run at once.
type Postfix struct {
	t        testing.TB
	dir      string
	etc      string
	port     int
	hostname string
	stopOnce sync.Once
}

// StartPostfix creates a private Postfix instance in t.TempDir(), starts it
// with `postfix -c DIR/etc start`, waits until its smtpd accepts connections
// and registers Stop with t.Cleanup. It needs root and Postfix installed
// (see RequirePostfix). On failure the test fails with what the master
// logged, the output of `postfix check` and the maillog.
func StartPostfix(t testing.TB, opts Options) *Postfix {
	t.Helper()
	RequirePostfix(t)
	reapStale()
	dir := t.TempDir()
	makeReachable(t, dir)
	if err := writeOwner(dir); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	for _, sub := range []string{"etc", "queue", "data", "log"} {
		d := filepath.Join(dir, sub)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatalf("testenv: %v", err)
		}
		if err := os.Chmod(d, 0o755); err != nil { // whatever the umask
			t.Fatalf("testenv: %v", err)
		}
	}
	p := &Postfix{t: t, dir: dir, etc: filepath.Join(dir, "etc")}
	t.Cleanup(p.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		p.port = FreePort(t)
		p.hostname = fmt.Sprintf("postfix-%d.rcptguard.test", p.port)
		if err := p.writeConfig(opts); err != nil {
			t.Fatalf("testenv: write Postfix config: %v", err)
		}
		if err := makeQueueTree(dir); err != nil { // again: start removes quick-start
			t.Fatalf("testenv: %v", err)
		}
		out, masterLog, err := p.start(ctx)
		if err == nil {
			break
		}
		// The free port may have been taken by someone else meanwhile.
		if attempt < 3 && strings.Contains(masterLog, fmt.Sprintf("port %d: Address already in use", p.port)) {
			continue
		}
		t.Fatalf("testenv: postfix -c %s start: %v\n%s\n--- master's log ---\n%s\n"+
			"--- postfix check ---\n%s\n--- maillog ---\n%s",
			p.etc, err, out, masterLog, p.onTerminal("check"), p.Log())
	}
	if err := waitDial(ctx, p.SMTPAddr()); err != nil {
		t.Fatalf("testenv: Postfix smtpd on %s: %v\n--- maillog ---\n%s", p.SMTPAddr(), err, p.Log())
	}
	return p
}

// makeReachable lets Postfix's unprivileged user traverse to dir: the
// testing package makes the test's temporary base folder mode 0700.
func makeReachable(t testing.TB, dir string) {
	t.Helper()
	ours := map[string]bool{dir: true, filepath.Dir(dir): true}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if !ours[d] {
				t.Fatalf("testenv: user postfix cannot traverse %s (mode %v): set TMPDIR to a folder such as /tmp", d, fi.Mode().Perm())
			}
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				t.Fatalf("testenv: %v", err)
			}
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

// makeQueueTree creates the queue tree that `postfix check` would create
// (post-install create-missing, with the modes of postfix-files) and the
// quick-start file that makes `postfix start` skip its checks, which run
// postconf and find some 40 times (0.3 s a start here). On a failed start,
// StartPostfix runs `postfix check` for the diagnostics. The master's lock
// file lives in data_directory, owned by mail_owner.
func makeQueueTree(dir string) error {
	u, err := user.Lookup("postfix")
	if err != nil {
		return err
	}
	g, err := user.LookupGroup("postdrop")
	if err != nil {
		return err
	}
	owner, _ := strconv.Atoi(u.Uid)
	ownerGroup, _ := strconv.Atoi(u.Gid)
	postdrop, _ := strconv.Atoi(g.Gid)
	queue := filepath.Join(dir, "queue")
	type entry struct {
		name       string
		uid, gid   int
		mode       os.FileMode
		createFile bool
	}
	entries := []entry{
		{name: filepath.Join(dir, "data"), uid: owner, gid: ownerGroup, mode: 0o700},
		{name: filepath.Join(queue, "maildrop"), uid: owner, gid: postdrop, mode: 0o730},
		{name: filepath.Join(queue, "public"), uid: owner, gid: postdrop, mode: 0o710},
		{name: filepath.Join(queue, "pid"), uid: 0, gid: 0, mode: 0o755},
		{name: filepath.Join(queue, "quick-start"), uid: 0, gid: 0, mode: 0o644, createFile: true},
	}
	for _, d := range []string{"active", "bounce", "corrupt", "defer", "deferred",
		"flush", "hold", "incoming", "private", "saved", "trace"} {
		entries = append(entries, entry{name: filepath.Join(queue, d), uid: owner, gid: 0, mode: 0o700})
	}
	for _, e := range entries {
		var err error
		if e.createFile {
			err = os.WriteFile(e.name, nil, e.mode)
		} else if err = os.Mkdir(e.name, e.mode); os.IsExist(err) {
			err = nil
		}
		if err == nil {
			err = os.Chown(e.name, e.uid, e.gid)
		}
		if err == nil {
			err = os.Chmod(e.name, e.mode)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var mainKeyRE = regexp.MustCompile(`^([A-Za-z0-9_]+)\s*=`)

func (p *Postfix) writeConfig(opts Options) error {
	// No relay host: accept mail and keep it deferred. (A retry: or error:
	// default_transport would make smtpd refuse every recipient at RCPT.)
	relay := [][2]string{{"defer_transports", "smtp, relay"}}
	if opts.RelayHost != "" {
		host, port, err := net.SplitHostPort(opts.RelayHost)
		if err != nil {
			return fmt.Errorf("RelayHost %q: %w", opts.RelayHost, err)
		}
		if strings.Contains(host, ":") {
			host = "ipv6:" + host
		}
		relay = [][2]string{{"relayhost", "[" + host + "]:" + port}}
	}
	main := [][2]string{
		{"compatibility_level", "3.6"},
		{"queue_directory", filepath.Join(p.dir, "queue")},
		{"data_directory", filepath.Join(p.dir, "data")},
		{"maillog_file", filepath.Join(p.dir, "log", "maillog")},
		{"maillog_file_prefixes", filepath.Join(p.dir, "log")},
		{"myhostname", p.hostname},
		{"mydomain", "rcptguard.test"},
		{"myorigin", "$myhostname"},
		{"inet_interfaces", "127.0.0.1"},
		{"inet_protocols", "ipv4"},
		{"mydestination", ""},
		{"local_recipient_maps", ""},
		{"local_transport", "error:5.1.1 local delivery is disabled"},
		{"alias_maps", ""},
		{"alias_database", ""},
		{"mynetworks", "127.0.0.0/8"},
		{"smtp_dns_support_level", "disabled"},
		{"smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"},
		{"smtpd_error_sleep_time", "0s"}, // else 1 s before every reject
		{"smtp_tls_security_level", "none"},
		{"smtpd_tls_security_level", "none"},
		{"biff", "no"},
		{"append_dot_mydomain", "no"},
		{"readme_directory", "no"},
	}
	main = append(main, relay...)

	overridden := map[string]bool{}
	for _, l := range opts.ExtraMain {
		if m := mainKeyRE.FindStringSubmatch(l); m != nil {
			overridden[m[1]] = true
		}
	}
	var b strings.Builder
	b.WriteString("# Written by internal/testenv.\n")
	for _, kv := range main {
		if !overridden[kv[0]] {
			fmt.Fprintf(&b, "%s = %s\n", kv[0], kv[1])
		}
	}
	for _, l := range opts.ExtraMain {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(filepath.Join(p.etc, "main.cf"), []byte(b.String()), 0o644); err != nil {
		return err
	}

	b.Reset()
	b.WriteString("# Written by internal/testenv. No chroot: the chroot has no /etc/hosts.\n")
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", p.port)
	b.WriteString(masterServices)
	for _, l := range opts.ExtraMaster {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(filepath.Join(p.etc, "master.cf"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	return backdateConfig(p.etc)
}

// backdateConfig sets the times of main.cf and master.cf a minute back:
// Postfix programs reading a configuration file modified less than about
// 2 s ago wait in 300 ms steps until it is that old (in case it is still
// being written), which made every start take 2 s.
func backdateConfig(etc string) error {
	past := time.Now().Add(-time.Minute)
	for _, f := range []string{"main.cf", "master.cf"} {
		if err := os.Chtimes(filepath.Join(etc, f), past, past); err != nil {
			return err
		}
	}
	return nil
}

const masterServices = `pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
`

// onTerminal runs `postfix -c ETC cmd` under script(1) and returns its
// output: the postfix command prints its errors only to a terminal.
func (p *Postfix) onTerminal(cmd string) string {
	c := p.Command("postfix", cmd)
	if _, err := exec.LookPath("script"); err == nil {
		c = exec.Command("script", "-qec", shellQuote(postfixCmd)+" -c "+shellQuote(p.etc)+" "+cmd, "/dev/null")
		c.Env = cleanEnv()
	}
	out, err := c.CombinedOutput()
	return fmt.Sprintf("%s(exit: %v)", out, err)
}

// start runs `postfix start` while it listens on the postlog socket
// itself: the master logs there until it sets up the postlog service, and a
// master that dies at start-up (a bad master.cf line, a port in use) logs
// only there (not to the maillog, and there is no syslog). The master
// replaces the socket with its own when it starts; what was logged on a
// successful start is appended to the maillog.
func (p *Postfix) start(ctx context.Context) (out []byte, masterLog string, err error) {
	sock := filepath.Join(p.dir, "queue", "public", "postlog")
	_ = os.Remove(sock)
	conn, lerr := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	var lines []string
	done := make(chan struct{})
	if lerr == nil {
		go func() {
			defer close(done)
			buf := make([]byte, 64<<10)
			for {
				n, err := conn.Read(buf)
				if err != nil {
					return
				}
				lines = append(lines, strings.TrimSpace(string(buf[:n])))
			}
		}()
	} else {
		close(done)
		lines = append(lines, "testenv: cannot listen on the postlog socket: "+lerr.Error())
	}
	out, err = p.commandContext(ctx, "postfix", "start").CombinedOutput()
	if lerr == nil {
		// What the master sent is queued in the socket by now.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		<-done
		conn.Close() // closing a unixgram conn leaves the path alone
	}
	masterLog = strings.Join(lines, "\n")
	if err == nil && lerr == nil && masterLog != "" {
		f, ferr := os.OpenFile(filepath.Join(p.dir, "log", "maillog"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if ferr == nil {
			fmt.Fprintln(f, masterLog)
			f.Close()
		}
	}
	return out, masterLog, err
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// waitDial waits until addr accepts a TCP connection or ctx ends.
func waitDial(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not accepting connections: %w (last: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
