package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// withPostfixPipeline runs f with the given chunk size, first read and workers.
func withPostfixPipeline(t *testing.T, chunk, first, workers int, f func()) {
	t.Helper()
	oldChunk, oldFirst, oldWorkers := postfixChunkSize, postfixFirstRead, postfixWorkers
	postfixChunkSize, postfixFirstRead, postfixWorkers = chunk, first, workers
	defer func() { postfixChunkSize, postfixFirstRead, postfixWorkers = oldChunk, oldFirst, oldWorkers }()
	f()
}

// postfixRun reads data (then err, if not nil) and returns every record, every problem
// and the error, one per line, in the order the reader gave them.
func postfixRun(t *testing.T, data []byte, err error) []string {
	t.Helper()
	var src io.Reader = bytes.NewReader(data)
	if err != nil {
		src = io.MultiReader(src, iotest.ErrReader(err))
	}
	var out []string
	pr := &PostfixReader{Now: time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), Location: time.UTC, MaxOpen: 5}
	rerr := pr.Read(src, "src",
		func(r Record) { out = append(out, "record "+recordLine(r)) },
		func(p Problem) { out = append(out, fmt.Sprintf("problem %d %s", p.Line, p.Text)) })
	return append(out, fmt.Sprintf("error %v", rerr))
}

// postfixMixedLog is a log of n lines of every kind the reader tells apart: deliveries,
// senders and removals of a few queue IDs, other programs' lines, runs of binary lines
// with empty lines among them, CRLF lines, broken Postfix lines and, when long is set,
// lines over PostfixMaxLine.
func postfixMixedLog(rng *rand.Rand, n int, long bool) []byte {
	var b bytes.Buffer
	for i := range n {
		ts := fmt.Sprintf("Jan  3 10:%02d:%02d", i/60%60, i%60)
		qid := fmt.Sprintf("ABC%02X", rng.IntN(8))
		eol := "\n"
		if rng.IntN(4) == 0 {
			eol = "\r\n"
		}
		switch k := rng.IntN(20); {
		case k < 4:
			status := []string{"sent", "deferred", "bounced", "sent"}[rng.IntN(4)]
			fmt.Fprintf(&b, "%s mx1 postfix/smtp[3]: %s: to=<r%d@gmial.com>, orig_to=<o%d@corp.test>, relay=mx.gmial.com[192.0.2.1]:25, status=%s (250 ok)%s", ts, qid, rng.IntN(3), rng.IntN(2), status, eol)
		case k < 6:
			fmt.Fprintf(&b, "%s mx1 postfix/qmgr[1]: %s: from=<s%d@corp.test>, size=1, nrcpt=1 (queue active)%s", ts, qid, rng.IntN(3), eol)
		case k < 7:
			fmt.Fprintf(&b, "%s mx1 postfix/qmgr[1]: %s: removed%s", ts, qid, eol)
		case k < 8:
			fmt.Fprintf(&b, "%s mx1 postfix/qmgr[1]: %s: from=<s@corp.test>, status=expired, returned to sender%s", ts, qid, eol)
		case k < 10:
			fmt.Fprintf(&b, "%s mx1 dovecot: imap(alice): Logged out%s", ts, eol)
		case k < 15: // a run of binary lines, empty lines among them
			for range 1 + rng.IntN(30) {
				switch rng.IntN(4) {
				case 0:
					b.WriteString(eol)
				case 1:
					b.WriteString("\x00\x01\x02 binary\xff" + eol)
				default:
					b.WriteString(strings.Repeat("\x7fELF", 1+rng.IntN(20)) + eol)
				}
			}
		case k < 16:
			fmt.Fprintf(&b, "%s mx1 postfix/smtp[3]: %s: to=<b\xff@gmial.com>, relay=x, status=sent (ok)%s", ts, qid, eol)
		case k < 17:
			fmt.Fprintf(&b, "%s mx1 postfix/smtp[3]: %s: to=<broken, status=sent%s", ts, qid, eol)
		case k < 18 && long && rng.IntN(3) == 0:
			fmt.Fprintf(&b, "%s mx1 postfix/cleanup[2]: %s: warning: %s%s", ts, qid, strings.Repeat("x", PostfixMaxLine+rng.IntN(50_000)), eol)
		default:
			b.WriteString(eol)
		}
	}
	if rng.IntN(2) == 0 { // the last line without its newline
		b.Truncate(b.Len() - 1)
	}
	return b.Bytes()
}

// TestPostfixPipelineChunks: whatever the chunk size and the number of split workers,
// the reader gives the same records and problems, in the same order, as when the whole
// log is one chunk: runs of bad lines, long lines, CRLF and a queue ID's lines that cross
// chunk boundaries are stitched, and a read error comes after all that was read before it.
func TestPostfixPipelineChunks(t *testing.T) {
	boom := errors.New("disk on fire")
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 11))
		long := seed%10 == 0
		n := 300
		if long {
			n = 60
		}
		data := postfixMixedLog(rng, n, long)
		var err error
		if seed%3 == 0 {
			err = boom
		}
		var want []string
		withPostfixPipeline(t, 64<<20, 64<<20, 1, func() { want = postfixRun(t, data, err) })
		chunks := []int{1, 2, 7, 64, 333, 4096}
		if long {
			chunks = []int{8 << 10, 100 << 10} // smaller ones copy the long lines' starts too often
		}
		for _, chunk := range chunks {
			for _, workers := range []int{1, 2, 5} {
				var got []string
				withPostfixPipeline(t, chunk, chunk, workers, func() { got = postfixRun(t, data, err) })
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d, chunks of %d bytes, %d workers:\n%s\nwant (one chunk)\n%s",
						seed, chunk, workers, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		}
	}
}

// TestPostfixPipelineBadRun: a run of binary lines that spans many chunks, empty lines
// among them, is one Problem; runs before and after a good line are two.
func TestPostfixPipelineBadRun(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Jan  3 10:00:00 mx1 postfix/qmgr[1]: AAAAA1: from=<a@corp.test>, size=1, nrcpt=1 (queue active)\n") // 1
	for i := range 40 {                                                                                                // 2-41
		if i%7 == 3 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\x00\x01\x02 binary\r\n")
		}
	}
	b.WriteString("Jan  3 10:00:01 mx1 postfix/smtp[3]: AAAAA1: to=<b@gmial.com>, relay=x, status=sent (250 ok)\r\n") // 42
	b.WriteString("\x7fELF\n\n\x7fELF\n")                                                                             // 43-45
	b.WriteString("Jan  3 10:00:02 mx1 dovecot: imap(alice): Logged out\n")                                           // 46
	b.WriteString("\x7fELF\n\x7fELF")                                                                                 // 47-48
	want := []string{
		"problem 2 40 lines (to line 41) that are not syslog or Postfix log lines (binary data?): skipped",
		"record 42 2027-01-03T10:00:01Z mx1/AAAAA1 <a@corp.test> -> <b@gmial.com> sent relay=x | 250 ok",
		"problem 43 3 lines (to line 45) that are not syslog or Postfix log lines (binary data?): skipped",
		"problem 47 2 lines (to line 48) that are not syslog or Postfix log lines (binary data?): skipped",
		"error <nil>",
	}
	for chunk := 1; chunk < 1000; chunk += 1 + chunk/50 {
		var got []string
		withPostfixPipeline(t, chunk, chunk, 3, func() { got = postfixRun(t, b.Bytes(), nil) })
		if !slices.Equal(got, want) {
			t.Errorf("chunks of %d bytes:\n%s\nwant\n%s", chunk, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestPostfixPipelinePanic: an emit that panics stops the reader without leaving its
// goroutines blocked (the race detector and the next Read would notice a chunk in use).
func TestPostfixPipelinePanic(t *testing.T) {
	data := benchPostfixLog(2000)
	withPostfixPipeline(t, 4096, 4096, 2, func() {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			_ = PostfixFormat.New().Read(bytes.NewReader(data), "src", func(Record) { panic("emit") }, func(Problem) {})
		}()
		n := 0
		if err := PostfixFormat.New().Read(bytes.NewReader(data), "src", func(Record) { n++ }, func(p Problem) { t.Error(p) }); err != nil || n != 6000 {
			t.Errorf("after the panic: %d records, %v", n, err)
		}
	})
}
