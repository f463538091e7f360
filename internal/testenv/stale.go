package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ownerFile, in an instance's folder, names the test process that started
// it, so that a later run can stop instances whose test binary was killed
// (go test -timeout, a crash) before its cleanups ran.
const ownerFile = "testenv-owner"

var reapOnce sync.Once

// writeOwner records this process as the owner of the instance in dir.
func writeOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(processID(os.Getpid())), 0o644)
}

// reapStale stops, once per test binary, the instances left running by
// test processes that are gone, and removes their folders.
func reapStale() {
	reapOnce.Do(func() {
		owners, _ := filepath.Glob(filepath.Join(os.TempDir(), "*", "*", ownerFile))
		for _, f := range owners {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			pid, _ := strconv.Atoi(strings.Fields(string(b) + " 0")[0])
			if pid > 0 && processID(pid) == string(b) {
				continue // its test is still running
			}
			dir := filepath.Dir(f)
			etc := filepath.Join(dir, "etc")
			_ = exec.Command(postfixCmd, "-c", etc, "stop").Run()
			_ = os.RemoveAll(dir)
			_ = os.Remove(filepath.Dir(dir)) // the test's base folder, if now empty
		}
	})
}

// processID identifies a process as "PID STARTTIME", which a reused PID
// does not match; "" if there is no such process.
func processID(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return strconv.Itoa(pid) + " " + f[19] // field 22: starttime
}
