package debian_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// listenAddrs are the loopback addresses the test gives the service in its config.
type listenAddrs struct{ policy, milter, http, web, intake string }

// editConfig is the administrator's edit of the installed config: what to protect, and
// free loopback ports instead of the default ones (which a real rcptguard or another test
// may hold).
func editConfig(t *testing.T, protect string) listenAddrs {
	t.Helper()
	free := func() string { return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) }
	a := listenAddrs{policy: free(), milter: free(), http: free(), web: free(), intake: free()}
	for old, addr := range map[string]string{
		"policy: 127.0.0.1:10040": "policy: " + a.policy, "milter: 127.0.0.1:10041": "milter: " + a.milter,
		"http: 127.0.0.1:8025": "http: " + a.http, "web: 127.0.0.1:8026": "web: " + a.web,
		"intake: 127.0.0.1:10026": "intake: " + a.intake,
	} {
		replaceInFile(t, confPath, old, addr)
	}
	replaceInFile(t, confPath, "protect: []", "protect: "+protect)
	replaceInFile(t, confPath, "own_domains: []", "own_domains: [contoso.com]")
	return a
}

// service is rcptguard started the way the installed unit starts it.
type service struct {
	cmd  *exec.Cmd
	unit map[string][]string
	logs *testenv.SyncBuffer
	done chan error
}

// startService runs the unit's ExecStart as its User and Group, with no capabilities and
// no_new_privs, its UMask, WorkingDirectory and the environment systemd gives a service
// (STATE_DIRECTORY among it), and waits until it listens. systemd is not PID 1 on a test
// machine, so systemctl cannot start it.
func startService(t *testing.T) *service {
	t.Helper()
	u := readUnit(t)
	one := func(key string) string {
		v := u[key]
		if len(v) == 0 {
			t.Fatalf("the unit has no %s=", key)
		}
		return v[len(v)-1]
	}
	argv := strings.Fields(one("ExecStart"))
	args := append([]string{"-c", `umask "$0" && exec "$@"`, one("UMask"),
		"setpriv", "--reuid=" + one("User"), "--regid=" + one("Group"), "--init-groups",
		"--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"}, argv...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Dir = one("WorkingDirectory")
	home := "/var/lib/" + one("StateDirectory")
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"STATE_DIRECTORY=" + home, "HOME=" + home, "USER=" + one("User"), "LOGNAME=" + one("User"),
	}
	s := &service{cmd: cmd, unit: u, logs: &testenv.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs // StandardOutput/StandardError=journal
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	testenv.WaitFor(t, "the service's listeners", func() bool {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("the service exited at start: %v\n%s", err, s.logs)
		default:
		}
		return strings.Contains(s.logs.String(), `msg=listening listener=policy`)
	})
	// It runs as the unit's user, not root.
	if st, err := os.Stat(fmt.Sprintf("/proc/%d", cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	} else if o := owner(st.Sys().(*syscall.Stat_t).Uid); o != svcUser {
		t.Fatalf("the service runs as %s, want %s", o, svcUser)
	}
	return s
}

// reload runs the unit's ExecReload for this process and waits for the reload's log line.
func (s *service) reload(t *testing.T) {
	t.Helper()
	line := s.unit["ExecReload"]
	argv := strings.Fields(strings.ReplaceAll(line[len(line)-1], "$MAINPID", strconv.Itoa(s.cmd.Process.Pid)))
	before := strings.Count(s.logs.String(), "configuration reloaded")
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %v: %v\n%s", argv, err, out)
	}
	testenv.WaitFor(t, "the reload's log line", func() bool {
		return strings.Count(s.logs.String(), "configuration reloaded") > before
	})
}

// stop sends SIGTERM, as systemctl stop does, and waits for a clean exit.
func (s *service) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("the service exited with %v after SIGTERM\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the service did not stop in 30 s after SIGTERM\n%s", s.logs)
	}
}
