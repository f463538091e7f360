package cli

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeBinaryReloadsOnHUPAndStopsOnTERM runs the built binary: it logs where it
// listens, SIGHUP with a broken config is refused and logged (the old one stays), and
// SIGTERM stops it with exit status 0.
func TestServeBinaryReloadsOnHUPAndStopsOnTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rcptguard")
	build := exec.Command("go", "build", "-o", bin, "github.com/rcptguard/rcptguard/cmd/rcptguard")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "rcptguard.yaml")
	good := "protect: [army.mil]\ndata_dir: data\nlisten:\n  policy: 127.0.0.1:0\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: 127.0.0.1:0\n"
	if err := os.WriteFile(cfg, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfg)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor := func(re string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("rcptguard ended before logging %q", re)
				}
				if regexp.MustCompile(re).MatchString(l) {
					return l
				}
			case <-ctx.Done():
				t.Fatalf("no log line matching %q", re)
			}
		}
	}
	waitFor(`msg=listening listener=http addr=127\.0\.0\.1:\d+`)
	waitFor(`msg=listening listener=policy addr=127\.0\.0\.1:\d+`)
	if err := os.WriteFile(cfg, []byte("protect: [army..mil]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	if l := waitFor(`reload refused`); !strings.Contains(l, "empty label") {
		t.Errorf("the refusal does not say what is wrong: %s", l)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(`msg=stopped`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
