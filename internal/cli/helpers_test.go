package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// devArgs are the check flags of the development scenario (see /work/shared/eval): the
// organisation protects contoso.com and the .mil domains, knows the correspondents in
// testdata/known.txt and allows bank.ml.
var devArgs = []string{
	"--protect", "contoso.com,army.mil,navy.mil,af.mil,.mil",
	"--known", filepath.Join("testdata", "known.txt"),
	"--allow", "bank.ml",
}

// checkArgs returns `check <devArgs> <extra...>`.
func checkArgs(extra ...string) []string {
	args := append([]string{"check"}, devArgs...)
	return append(args, extra...)
}

// result is one finished run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI with args, stdin as standard input (nil for an empty one).
func run(t testing.TB, stdin io.Reader, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code := Run(args, Env{Stdin: stdin, Stdout: &out, Stderr: &errOut})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// lines splits output into its lines, without the final newline; none for "".
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// record is one `check --json` answer, with the fields of the contract.
type record struct {
	Input     string   `json:"input"`
	Domain    string   `json:"domain"`
	Display   string   `json:"display"`
	Verdict   string   `json:"verdict"`
	Intended  []string `json:"intended"`
	Technique []string `json:"technique"`
	Score     float64  `json:"score"`
	Reason    string   `json:"reason"`
	Error     string   `json:"error"`
}

// requiredFields are the keys every answer has, with the JSON type of each.
var requiredFields = map[string]string{
	"input": "string", "domain": "string", "display": "string", "verdict": "string",
	"intended": "array", "technique": "array", "score": "number", "reason": "string",
	"error": "string",
}

var verdicts = map[string]bool{"allow": true, "warn": true, "hold": true, "reject": true, "invalid": true}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// parseRecord checks that line is one JSON object that keeps the contract of
// `check --json` and returns it; it returns an error describing the first breach.
func parseRecord(line string) (record, error) {
	var r record
	if !json.Valid([]byte(line)) {
		return r, fmt.Errorf("not valid JSON: %q", line)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		return r, fmt.Errorf("not a JSON object: %v: %q", err, line)
	}
	for k, typ := range requiredFields {
		v, ok := raw[k]
		if !ok {
			return r, fmt.Errorf("no %q field: %q", k, line)
		}
		if got := jsonType(v); got != typ {
			return r, fmt.Errorf("%q is %s, want %s: %q", k, got, typ, line)
		}
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return r, fmt.Errorf("decoding: %v: %q", err, line)
	}
	for _, a := range [][]string{r.Intended, r.Technique} {
		for _, s := range a {
			if s == "" {
				return r, fmt.Errorf("empty string in intended or technique: %q", line)
			}
		}
	}
	switch {
	case !verdicts[r.Verdict]:
		return r, fmt.Errorf("verdict %q is not allow, warn, hold, reject or invalid: %q", r.Verdict, line)
	case r.Score < 0 || r.Score > 1:
		return r, fmt.Errorf("score %v is outside [0,1]: %q", r.Score, line)
	case (r.Verdict == "invalid") != (r.Error != ""):
		return r, fmt.Errorf("verdict %q with error %q: error must be non-empty exactly when invalid: %q", r.Verdict, r.Error, line)
	case r.Verdict != "invalid" && r.Domain == "":
		return r, fmt.Errorf("verdict %q with no domain: %q", r.Verdict, line)
	case r.Domain != strings.ToLower(r.Domain) || !isASCII(r.Domain):
		return r, fmt.Errorf("domain %q is not lowercase ASCII: %q", r.Domain, line)
	case r.Domain != "" && r.Display == "":
		return r, fmt.Errorf("domain %q with no display form: %q", r.Domain, line)
	case strings.TrimSpace(r.Reason) == "" || strings.ContainsAny(r.Reason, "\r\n"):
		return r, fmt.Errorf("reason %q is not one sentence: %q", r.Reason, line)
	}
	return r, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// mustRecords parses every line of out as an answer.
func mustRecords(t testing.TB, out string) []record {
	t.Helper()
	var rs []record
	for i, l := range lines(out) {
		r, err := parseRecord(l)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		rs = append(rs, r)
	}
	return rs
}
