package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// answerTimeout bounds every wait for an answer: generous, since the race detector and a
// loaded machine are slow, but a hang fails instead of blocking the test run.
const answerTimeout = 20 * time.Second

// session is a check command running on pipes: the test writes its standard input and
// reads its standard output line by line, as an interactive caller would.
type session struct {
	t      *testing.T
	in     *io.PipeWriter
	out    chan string // the lines of standard output; closed at its end
	code   chan int    // the exit status, once Run returns
	stderr *testenv.SyncBuffer
}

func startSession(t *testing.T, args ...string) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: t, in: inW, out: make(chan string, 16), code: make(chan int, 1), stderr: &testenv.SyncBuffer{}}
	go func() {
		code := Run(args, Env{Stdin: inR, Stdout: outW, Stderr: s.stderr})
		outW.Close()
		s.code <- code
	}()
	go func() {
		defer close(s.out)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			s.out <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		// Unblock everything if the test stopped early.
		inW.CloseWithError(io.ErrClosedPipe)
		outR.CloseWithError(io.ErrClosedPipe)
	})
	return s
}

// write writes text to the command's standard input, failing if it is not read in time.
func (s *session) write(text string) {
	s.t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := io.WriteString(s.in, text)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("writing %q: %v", text, err)
		}
	case <-time.After(answerTimeout):
		s.t.Fatalf("the command did not read %q within %v", text, answerTimeout)
	}
}

// next waits for the next line of standard output.
func (s *session) next() string {
	s.t.Helper()
	select {
	case l, ok := <-s.out:
		if !ok {
			s.t.Fatalf("standard output ended; stderr: %s", s.stderr.String())
		}
		return l
	case <-time.After(answerTimeout):
		s.t.Fatalf("no answer within %v: the command does not answer each line as it reads it", answerTimeout)
	}
	return ""
}

// finish closes standard input and returns the exit status and any output left.
func (s *session) finish() (int, []string) {
	s.t.Helper()
	s.in.Close()
	var rest []string
	for {
		select {
		case l, ok := <-s.out:
			if !ok {
				select {
				case code := <-s.code:
					return code, rest
				case <-time.After(answerTimeout):
					s.t.Fatalf("Run did not return after standard input closed")
				}
			}
			rest = append(rest, l)
		case <-time.After(answerTimeout):
			s.t.Fatalf("standard output did not end after standard input closed")
		}
	}
}

// Every line is answered before the next one is written: the command neither waits for
// the end of its input nor for a full buffer.
func TestStreamAnswersLineByLine(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"text", "json"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			args := checkArgs()
			if mode == "json" {
				args = checkArgs("--json")
			}
			s := startSession(t, args...)
			steps := []struct {
				write, input, verdict string
			}{
				{"alice@army.ml\n", "alice@army.ml", "hold"},
				{"navy.mil\r\n", "navy.mil", "allow"}, // CRLF
				{"\n\r\n   \n\t\r\n", "", ""},         // blank lines: no answer
				{"  gmial.com  \n", "gmial.com", "hold"},
				{"army..mil\n", "army..mil", "invalid"},
				{"ali", "", ""}, // half a line: no answer yet
				{"ce@\r\n", "alice@", "invalid"},
				{"bank.ml\n", "bank.ml", "allow"},
			}
			for _, st := range steps {
				s.write(st.write)
				if st.input == "" {
					continue
				}
				got := s.next()
				if mode == "text" {
					if want := st.input + "  " + st.verdict + "  "; !strings.HasPrefix(got, want) {
						t.Fatalf("after writing %q: answer %q, want it to start with %q", st.write, got, want)
					}
					continue
				}
				r, err := parseRecord(got)
				if err != nil {
					t.Fatalf("after writing %q: %v", st.write, err)
				}
				if r.Input != st.input || r.Verdict != st.verdict {
					t.Fatalf("after writing %q: answer for %q with verdict %s, want %q and %s", st.write, r.Input, r.Verdict, st.input, st.verdict)
				}
			}
			code, rest := s.finish()
			if code != ExitFlagged || len(rest) != 0 || s.stderr.String() != "" {
				t.Errorf("at the end: exit %d, further output %q, stderr %q; want %d and nothing", code, rest, s.stderr.String(), ExitFlagged)
			}
		})
	}
}

// A final line without a newline is answered at the end of input.
func TestStreamLastLineWithoutNewline(t *testing.T) {
	t.Parallel()
	res := run(t, strings.NewReader("navy.mil\r\narmy.ml"), checkArgs()...)
	got := lines(res.stdout)
	if res.code != ExitFlagged || len(got) != 2 || !strings.HasPrefix(got[1], "army.ml  hold  ") {
		t.Errorf("exit %d, output %q; want 1 and an answer for army.ml", res.code, got)
	}
}

// repeatReader yields n copies of b without holding them in memory.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

const tenMB = 10 << 20

// A 10 MB line is one invalid answer, read in bounded memory.
func TestStreamHugeLine(t *testing.T) {
	// Not parallel: it measures the allocations of the whole process.
	measure := func(in io.Reader) (result, uint64) {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res := run(t, in, checkArgs("--json")...)
		runtime.ReadMemStats(&after)
		return res, after.TotalAlloc - before.TotalAlloc
	}
	_, small := measure(strings.NewReader("x"))
	res, huge := measure(&repeatReader{b: 'x', n: tenMB})
	if res.code != ExitFlagged || res.stderr != "" {
		t.Errorf("exit %d, stderr %q; want %d and nothing", res.code, res.stderr, ExitFlagged)
	}
	rs := mustRecords(t, res.stdout)
	if len(rs) != 1 {
		t.Fatalf("%d answers for one line, want 1", len(rs))
	}
	if rs[0].Verdict != "invalid" || len(rs[0].Input) > 64<<10 {
		t.Errorf("answer: verdict %s, input of %d bytes, error %q; want invalid and a bounded input", rs[0].Verdict, len(rs[0].Input), rs[0].Error)
	}
	if extra := int64(huge) - int64(small); extra > 2<<20 {
		t.Errorf("a 10 MB line allocated %d bytes more than a 1-byte one: the line is held in memory", extra)
	}
	t.Logf("allocated %d bytes for a 1-byte line, %d for a 10 MB line", small, huge)
}

// The lines after a huge one are still answered, in order.
func TestStreamHugeLineThenMore(t *testing.T) {
	t.Parallel()
	in := io.MultiReader(strings.NewReader("navy.ml\n"), &repeatReader{b: 'a', n: tenMB},
		strings.NewReader("\r\nalice@army.ml\nbank.ml"))
	res := run(t, in, checkArgs("--json")...)
	rs := mustRecords(t, res.stdout)
	var got []string
	for _, r := range rs {
		got = append(got, r.Verdict)
	}
	if len(rs) != 4 || rs[0].Input != "navy.ml" || rs[2].Input != "alice@army.ml" || rs[3].Input != "bank.ml" ||
		strings.Join(got, ",") != "hold,invalid,hold,allow" {
		t.Errorf("verdicts %v for %d answers; want hold,invalid,hold,allow", got, len(rs))
	}
}

// A line of nothing but whitespace is blank however long it is, and is skipped.
func TestStreamLongBlankLineSkipped(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{100, 5000, 70000, 1 << 20} {
		in := io.MultiReader(&repeatReader{b: ' ', n: n}, strings.NewReader("\nbank.ml\n"))
		res := run(t, in, checkArgs("--json")...)
		rs := mustRecords(t, res.stdout)
		if len(rs) != 1 || rs[0].Input != "bank.ml" || res.code != ExitOK {
			var got []string
			for _, r := range rs {
				got = append(got, fmt.Sprintf("%s (%d-byte input)", r.Verdict, len(r.Input)))
			}
			t.Errorf("a blank line of %d spaces, then bank.ml: exit %d, answers %v; want 0 and only bank.ml allowed", n, res.code, got)
		}
	}
}

// 10,000 lines come back as 10,000 answers in input order.
func TestStreamOrder(t *testing.T) {
	t.Parallel()
	const n = 10_000
	kinds := []func(i int) string{
		func(i int) string { return fmt.Sprintf("user%d@host%d.example", i, i) },
		func(i int) string { return fmt.Sprintf("a%d@army.ml", i) },
		func(i int) string { return fmt.Sprintf("bad%d..mil", i) },
		func(i int) string { return fmt.Sprintf("m\u00fcnchen%d.de", i) },
		func(i int) string { return fmt.Sprintf("\"User %d\" <u%d@gm\u0430il.com>", i, i) },
		func(i int) string { return fmt.Sprintf("user%d@", i) },
		func(i int) string { return "navy.mil" },
	}
	var in bytes.Buffer
	inputs := make([]string, n)
	for i := range inputs {
		inputs[i] = kinds[i%len(kinds)](i)
		in.WriteString(inputs[i])
		if i%3 == 0 {
			in.WriteString("\r\n")
		} else {
			in.WriteString("\n")
		}
		if i%100 == 0 {
			in.WriteString("\n") // a blank line now and then
		}
	}
	res := run(t, &in, checkArgs("--json")...)
	if res.code != ExitFlagged {
		t.Errorf("exit %d, want %d", res.code, ExitFlagged)
	}
	got := lines(res.stdout)
	if len(got) != n {
		t.Fatalf("%d answers for %d lines", len(got), n)
	}
	for i, l := range got {
		r, err := parseRecord(l)
		if err != nil {
			t.Fatalf("answer %d: %v", i+1, err)
		}
		if r.Input != inputs[i] {
			t.Fatalf("answer %d is for %q, want %q", i+1, r.Input, inputs[i])
		}
	}
}
