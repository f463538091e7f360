// Package debian_test installs rcptguard's Debian package on this machine, as a mail
// administrator would, and checks what the package promises (docs/install.md): the files
// and their owners, the conffile, the hardened unit (systemd-analyze verify), that the
// service starts the way the unit starts it and answers the Postfix policy protocol, that
// `dpkg -r` keeps the config and the data and a reinstall goes on with them, and that
// `dpkg --purge` leaves nothing. It needs root (CI is root) and dpkg; it takes a lock so
// that two runs never install at once.
package debian_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// What the package installs (packaging/debian/nfpm.yaml, postinst).
const (
	pkgName  = "rcptguard"
	binPath  = "/usr/bin/rcptguard"
	confPath = "/etc/rcptguard/rcptguard.yaml"
	unitPath = "/lib/systemd/system/rcptguard.service"
	dataDir  = "/var/lib/rcptguard"
	svcUser  = "rcptguard"
	// marker marks an installation made by this test, so that a run killed halfway can
	// be cleaned by the next one; an installation without it is a real one and is left
	// alone.
	marker = dataDir + "/.installed-by-package-test"
)

func TestDebianPackageInstallsRunsAndKeepsItsData(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tool := range []string{"dpkg", "dpkg-query", "setpriv", "systemd-analyze", "adduser"} {
		testenv.RequireTool(t, tool)
	}
	lockPackageTest(t)
	start := time.Now()
	removeLeftover(t)
	deb := packageFile(t)
	_, err := user.Lookup(svcUser)
	userExisted := err == nil
	t.Cleanup(func() {
		dpkg(t, "--purge", pkgName)
		if !userExisted { // leave the machine as it was
			exec.Command("deluser", "--system", "--quiet", svcUser).Run()
		}
	})

	// Install.
	dpkg(t, "-i", deb)
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := status(t); s != "ii " {
		t.Fatalf("after dpkg -i the status is %q, want ii", s)
	}
	checkInstalled(t)
	conffileIsPristine(t)
	verifyUnit(t)
	if out, err := exec.Command(binPath, "config", "check", confPath).CombinedOutput(); err != nil {
		t.Fatalf("rcptguard config check %s: %v\n%s", confPath, err, out)
	}

	// The administrator edits the config (free ports here, so that nothing else on the
	// machine is disturbed), starts the service, asks it, and reloads it as the unit does.
	addrs := editConfig(t, "[army.mil, .mil]")
	edited := readFile(t, confPath)
	svc := startService(t)
	p := testenv.DialPolicy(t, addrs.policy)
	if rcpt, eom := p.Message("alice@contoso.com", "bob@army.mil"); rcpt != "DUNNO" || eom != "DUNNO" {
		t.Fatalf("army.mil: %q then %q, want DUNNO twice", rcpt, eom)
	}
	if rcpt, eom := p.Message("alice@contoso.com", "bob@army.ml"); !strings.Contains(rcpt+eom, "army.mil") {
		t.Fatalf("army.ml: %q then %q, want a refusal that suggests army.mil", rcpt, eom)
	}
	if _, eom := p.Message("alice@contoso.com", "bob@fabrikarn.com"); eom != "DUNNO" {
		t.Fatalf("fabrikarn.com before fabrikam.com is protected: %q", eom)
	}
	replaceInFile(t, confPath, "protect: [army.mil, .mil]", "protect: [army.mil, .mil, fabrikam.com]")
	edited = readFile(t, confPath)
	svc.reload(t)
	if _, eom := testenv.DialPolicy(t, addrs.policy).Message("alice@contoso.com", "bob@fabrikarn.com"); !strings.Contains(eom, "fabrikam.com") {
		t.Fatalf("fabrikarn.com after the reload: %q, want a refusal that suggests fabrikam.com", eom)
	}
	key := dataFiles(t)
	svc.stop(t)

	// dpkg -r keeps the config (edited), the data and the user.
	dpkg(t, "-r", pkgName)
	if s := status(t); s != "rc " {
		t.Fatalf("after dpkg -r the status is %q, want rc (config files kept)", s)
	}
	for _, gone := range []string{binPath, unitPath} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there after dpkg -r (%v)", gone, err)
		}
	}
	if got := readFile(t, confPath); got != edited {
		t.Errorf("dpkg -r changed the edited config:\n%s", got)
	}
	if got := dataFiles(t); got != key {
		t.Errorf("token.key changed across dpkg -r")
	}
	if _, err := user.Lookup(svcUser); err != nil {
		t.Errorf("dpkg -r removed the user %s: %v", svcUser, err)
	}

	// Reinstalled, it starts with the same config and the same data.
	dpkg(t, "-i", deb)
	if s := status(t); s != "ii " {
		t.Fatalf("after the second dpkg -i the status is %q, want ii", s)
	}
	checkInstalled(t)
	if got := readFile(t, confPath); got != edited {
		t.Errorf("the reinstall replaced the edited config:\n%s", got)
	}
	svc = startService(t)
	if _, eom := testenv.DialPolicy(t, addrs.policy).Message("alice@contoso.com", "bob@fabrikarn.com"); !strings.Contains(eom, "fabrikam.com") {
		t.Fatalf("fabrikarn.com after the reinstall: %q, want the edited config in use", eom)
	}
	if got := dataFiles(t); got != key {
		t.Errorf("token.key changed across the reinstall: the links in the notices already sent are dead")
	}
	svc.stop(t)

	// Purge leaves nothing of the package.
	dpkg(t, "--purge", pkgName)
	if s := status(t); s != "" {
		t.Errorf("after dpkg --purge the status is %q, want unknown", s)
	}
	for _, gone := range []string{confPath, filepath.Dir(confPath), dataDir, binPath, unitPath} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there after dpkg --purge (%v)", gone, err)
		}
	}
	t.Logf("built, installed, started, removed, reinstalled and purged in %v", time.Since(start).Round(100*time.Millisecond))
}

// lockPackageTest waits until no other run of this test (from another checkout, say) is
// installing the package, and holds that until the test ends.
func lockPackageTest(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/run/lock/rcptguard-package-test.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock; registered first, so it runs last
}

// removeLeftover purges an installation that a killed run of this test left, and fails
// on one that it did not make.
func removeLeftover(t *testing.T) {
	t.Helper()
	if status(t) == "" {
		return
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the %s package is installed on this machine, and not by this test: refusing to replace it", pkgName)
	}
	dpkg(t, "--purge", pkgName)
}

// packageFile is the .deb that scripts/test.sh built ($RCPTGUARD_DEB), or one built now
// with scripts/package.sh.
func packageFile(t *testing.T) string {
	t.Helper()
	if deb := os.Getenv("RCPTGUARD_DEB"); deb != "" {
		if _, err := os.Stat(deb); err != nil {
			t.Fatalf("RCPTGUARD_DEB: %v", err)
		}
		return deb
	}
	deb := filepath.Join(t.TempDir(), "rcptguard.deb")
	cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(t), "scripts", "package.sh"), deb)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/package.sh: %v\n%s", err, out)
	}
	return deb
}

func dpkg(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("dpkg", append([]string{"--force-unsafe-io"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	// Where systemd runs, the postinst started the service: stop it, so that the one
	// this test starts is the only one on the data folder.
	if _, err := os.Stat("/run/systemd/system"); err == nil && args[0] == "-i" {
		if out, err := exec.Command("systemctl", "stop", "rcptguard.service").CombinedOutput(); err != nil {
			t.Fatalf("systemctl stop rcptguard: %v\n%s", err, out)
		}
	}
}

// status is the package's dpkg status ("ii ", "rc "), "" when dpkg does not know it.
func status(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkgName).Output()
	if err != nil {
		return ""
	}
	if s := string(out); s != "un " {
		return s
	}
	return ""
}

// checkInstalled checks the installed files, their owners and modes, and the user.
func checkInstalled(t *testing.T) {
	t.Helper()
	u, err := user.Lookup(svcUser)
	if err != nil {
		t.Fatalf("no user %s after install: %v", svcUser, err)
	}
	if u.Uid == "0" || len(u.Uid) > 3 { // adduser --system picks a UID below 1000
		t.Errorf("user %s has UID %s, want a system user", svcUser, u.Uid)
	}
	for _, f := range []struct {
		path       string
		mode       os.FileMode
		owner, grp string
	}{
		{binPath, 0o755, "root", "root"},
		{confPath, 0o640, "root", svcUser},
		{unitPath, 0o644, "root", "root"},
		{dataDir, 0o700 | os.ModeDir, svcUser, svcUser},
	} {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		o, g := owner(st.Uid), group(st.Gid)
		if fi.Mode() != f.mode || o != f.owner || g != f.grp {
			t.Errorf("%s: %v %s:%s, want %v %s:%s", f.path, fi.Mode(), o, g, f.mode, f.owner, f.grp)
		}
	}
	if out, err := exec.Command(binPath, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "rcptguard ") {
		t.Errorf("%s version: %v %q", binPath, err, out)
	}
	// CGO_ENABLED=0: a static binary, with no program interpreter (dynamic loader).
	bin, err := elf.Open(binPath)
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked (built with cgo?)", binPath)
		}
	}
}

// owner and group are the names of a file's owner and group, or the numbers.
func owner(id uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(id), 10)); err == nil {
		return u.Username
	}
	return strconv.FormatUint(uint64(id), 10)
}

func group(id uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10)); err == nil {
		return g.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// conffileIsPristine checks that dpkg lists the config as a conffile with the installed
// file's checksum.
func conffileIsPristine(t *testing.T) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${Conffiles}", pkgName).Output()
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(readFile(t, confPath)))
	want := confPath + " " + hex.EncodeToString(sum[:])
	if !strings.Contains(string(out), want) {
		t.Errorf("dpkg's conffiles are %q, want %q", out, want)
	}
}

// verifyUnit runs systemd-analyze verify on the installed unit and checks the hardening
// that docs/install.md promises.
func verifyUnit(t *testing.T) {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "verify", unitPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
	}
	u := readUnit(t)
	for key, want := range map[string]string{
		"User": svcUser, "Group": svcUser, "StateDirectory": "rcptguard", "StateDirectoryMode": "0700",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
		"NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "StandardError": "journal",
		"ExecReload": "/bin/kill -HUP $MAINPID",
	} {
		if got, ok := u[key]; !ok || got[len(got)-1] != want {
			t.Errorf("unit: %s=%q, want %q", key, got, want)
		}
	}
}

// readUnit reads the installed unit's [Service] section: each key's values in order.
func readUnit(t *testing.T) map[string][]string {
	t.Helper()
	u := map[string][]string{}
	section := ""
	for _, line := range strings.Split(readFile(t, unitPath), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			u[k] = append(u[k], v)
		}
	}
	return u
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	s := readFile(t, path)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q:\n%s", path, old, s)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(s, old, new, 1)), fi.Mode()); err != nil {
		t.Fatal(err)
	}
}

// dataFiles checks that the service made its files in the data folder, the service's
// own, and returns the SHA-256 of the key that signs the validation links.
func dataFiles(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"token.key", "quarantine.db", "history.db", "sessions.db"} {
		fi, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil {
			t.Errorf("data: %v", err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if o := owner(st.Uid); o != svcUser || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: owner %s mode %v, want %s and no access for others", name, o, fi.Mode(), svcUser)
		}
	}
	sum := sha256.Sum256([]byte(readFile(t, filepath.Join(dataDir, "token.key"))))
	return hex.EncodeToString(sum[:])
}
