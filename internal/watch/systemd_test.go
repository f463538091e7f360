package watch

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// squatFlags are the flags of `rcptguard squat` (internal/cli/squat.go, written on the
// branch squat: config to export-block there; watch and notify are this package's), the
// only ones the example units may use. Keep the list in step with the command.
var squatFlags = []string{"config", "resolver", "rate", "concurrency", "format", "o", "progress",
	"known-top", "wide", "farm-min", "export-block", "watch", "notify"}

// unit is a systemd unit file read as ini-like sections: section -> key -> values.
type unit map[string]map[string][]string

// parseUnit reads systemd's unit syntax: [Section] lines, Key=Value lines, comments
// starting with # or ;, blank lines. Anything else, or a key outside a section, is an error.
func parseUnit(text string) (unit, []string) {
	u := unit{}
	var problems []string
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				problems = append(problems, "line "+strconv.Itoa(n)+": bad section "+line)
				continue
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				problems = append(problems, "line "+strconv.Itoa(n)+": not Key=Value: "+line)
				continue
			}
			if section == "" {
				problems = append(problems, "line "+strconv.Itoa(n)+": "+k+" outside a section")
				continue
			}
			u[section][k] = append(u[section][k], strings.TrimSpace(v))
		}
	}
	return u, problems
}

// squatCommandProblems checks an ExecStart command line: rcptguard squat with known
// flags only, --watch, and --notify with an address.
func squatCommandProblems(cmd string) []string {
	var problems []string
	argv := strings.Fields(cmd)
	if len(argv) < 2 || filepath.Base(argv[0]) != "rcptguard" || argv[1] != "squat" {
		return []string{"ExecStart is not rcptguard squat: " + cmd}
	}
	used := map[string]string{}
	for i := 2; i < len(argv); i++ {
		a := argv[i]
		if !strings.HasPrefix(a, "-") {
			continue // a flag's value or a domain
		}
		name, value, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !slices.Contains(squatFlags, name) {
			problems = append(problems, "unknown flag "+a)
			continue
		}
		if value == "" && name != "watch" && name != "wide" && i+1 < len(argv) {
			value = argv[i+1]
		}
		used[name] = value
	}
	if _, ok := used["watch"]; !ok {
		problems = append(problems, "no --watch")
	}
	if !strings.Contains(used["notify"], "@") {
		problems = append(problems, "no --notify address")
	}
	return problems
}

func readUnitFile(t *testing.T, name string) unit {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "systemd", name))
	if err != nil {
		t.Fatal(err)
	}
	u, problems := parseUnit(string(b))
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	return u
}

// TestSystemdExampleUnits: the units docs/squat.md ships parse, the service runs
// rcptguard squat --watch --notify with flags the command has, and the timer runs it daily.
func TestSystemdExampleUnits(t *testing.T) {
	svc := readUnitFile(t, "rcptguard-squat.service")
	start := svc["Service"]["ExecStart"]
	if len(start) != 1 {
		t.Fatalf("service: %d ExecStart lines, want 1", len(start))
	}
	for _, p := range squatCommandProblems(start[0]) {
		t.Errorf("service: %s", p)
	}
	if got := svc["Service"]["Type"]; !slices.Equal(got, []string{"oneshot"}) {
		t.Errorf("service: Type %v, want oneshot", got)
	}
	for _, k := range []string{"User", "StateDirectory", "UMask"} {
		if len(svc["Service"][k]) == 0 {
			t.Errorf("service: no %s", k)
		}
	}
	tm := readUnitFile(t, "rcptguard-squat.timer")
	if got := tm["Timer"]["OnCalendar"]; !slices.Equal(got, []string{"daily"}) {
		t.Errorf("timer: OnCalendar %v, want daily", got)
	}
	if got := tm["Timer"]["Unit"]; !slices.Equal(got, []string{"rcptguard-squat.service"}) {
		t.Errorf("timer: Unit %v", got)
	}
	if got := tm["Install"]["WantedBy"]; !slices.Equal(got, []string{"timers.target"}) {
		t.Errorf("timer: WantedBy %v", got)
	}
	verifyUnits(t)
}

// verifyUnits asks systemd itself, where it is installed, to read the units: any warning
// (an unknown key, a bad value) fails. The command is replaced by /bin/true: verify wants
// an executable there.
func verifyUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the units were checked by the parser above only")
		return
	}
	dir := t.TempDir()
	for _, name := range []string{"rcptguard-squat.service", "rcptguard-squat.timer"} {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "/usr/bin/rcptguard ", "/bin/true ")
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "./rcptguard-squat.timer", "./rcptguard-squat.service")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "rcptguard-squat") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The checks fail on bad units.
func TestUnitChecksFindProblems(t *testing.T) {
	if _, p := parseUnit("Key=outside\n[Service]\nnot a key value\n[Bad\n"); len(p) != 3 {
		t.Errorf("parseUnit problems %q, want 3", p)
	}
	for cmd, want := range map[string]string{
		"/usr/bin/rcptguard squat --watch --notify a@b.example --bogus":  "unknown flag --bogus",
		"/usr/bin/rcptguard scan --watch":                                "is not rcptguard squat",
		"/usr/bin/rcptguard squat --notify a@b.example":                  "no --watch",
		"/usr/bin/rcptguard squat --watch --notify":                      "no --notify address",
		"/usr/bin/rcptguard squat --watch --notify=a@b.example --rate=5": "",
	} {
		got := strings.Join(squatCommandProblems(cmd), "; ")
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: problems %q, want %q", cmd, got, want)
		}
	}
}
