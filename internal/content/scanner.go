package content

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"unicode/utf8"
)

// maxLine is the longest line the matchers see; longer lines are cut. It is
// also all the text held at once.
const maxLine = 4096

var errDeadline = errors.New("time limit")

// scanner is an io.Writer that takes decoded text, cuts it into lines and runs
// every matcher on each line. One scanner reads one message; partEnd resets
// what is per part (proximity windows, bulk row counts).
type scanner struct {
	cl    *Classifier
	ctx   context.Context
	t     tally
	buf   []byte
	lines int
	err   error

	med medicalState
	cus []customCount // matches per custom category
	prt partState
}

// partState is what the matchers remember within one text part.
type partState struct {
	dob, passport, ssn, icd, flight, booking, hotel prox
	bulk                                            bulkState
	bareMarks                                       int
	prev                                            [2]string // the two lines before, for dates before a flight
}

func newPartState() partState {
	return partState{dob: newProx(), passport: newProx(), ssn: newProx(), icd: newProx(),
		flight: newProx(), booking: newProx(), hotel: newProx()}
}

func newScanner(ctx context.Context, cl *Classifier) *scanner {
	return &scanner{cl: cl, ctx: ctx, t: tally{}, buf: make([]byte, 0, maxLine),
		med: medicalState{terms: map[string]bool{}}, cus: make([]customCount, len(cl.custom)), prt: newPartState()}
}

func (s *scanner) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLine - len(s.buf)
			if len(p) < room {
				s.buf = append(s.buf, p...)
				break
			}
			s.buf = append(s.buf, p[:room]...)
			p = p[room:]
			s.flushLine()
			continue
		}
		take := p[:i]
		if len(s.buf)+len(take) > maxLine {
			room := maxLine - len(s.buf)
			s.buf = append(s.buf, take[:room]...)
			p = p[room:]
			s.flushLine()
			continue
		}
		s.buf = append(s.buf, take...)
		p = p[i+1:]
		s.flushLine()
		if s.err != nil {
			return 0, s.err
		}
	}
	return n, s.err
}

func (s *scanner) flushLine() {
	b := bytes.TrimRight(s.buf, "\r")
	l := toValidString(b)
	if strings.Contains(l, "\u00a0") {
		l = strings.ReplaceAll(l, "\u00a0", " ") // &nbsp; in HTML, often in text too
	}
	s.line(l)
	s.buf = s.buf[:0]
	s.lines++
	if s.lines%64 == 0 && s.ctx.Err() != nil {
		s.err = errDeadline
	}
}

// partEnd ends one text part: the last line, then the per-part verdicts.
func (s *scanner) partEnd() {
	if len(s.buf) > 0 {
		s.flushLine()
	}
	s.prt.bulk.end(s.t)
	if s.prt.bareMarks >= 2 {
		s.t.add(Markings, evPortion, s.prt.bareMarks)
	}
	s.prt = newPartState()
}

// text runs the matchers over a short text such as a subject.
func (s *scanner) text(v string) {
	for _, l := range strings.Split(v, "\n") {
		s.line(toValidString([]byte(l)))
	}
	s.partEnd()
}

// finish decides the per-message categories and returns the findings.
func (s *scanner) finish() []Finding {
	s.med.end(s.t)
	for i, m := range s.cl.custom {
		m.end(s.t, s.cus[i])
	}
	return s.t.findings()
}

func toValidString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// analyse is newLine; TestFlagsOnlySkipWork makes it slowLine, every flag set, to show
// that the flags only spare the matchers work, never change what they find.
var analyse = newLine

// line runs every matcher on one line.
func (s *scanner) line(l string) {
	ln := analyse(l)
	if ln.is(flagBlank) {
		s.advance()
		return
	}
	credentials(s, &ln)
	personal(s, &ln)
	medical(s, &ln)
	markings(s, &ln)
	travel(s, &ln)
	s.prt.bulk.line(&ln)
	for i, m := range s.cl.custom {
		m.line(&ln, &s.cus[i])
	}
	s.prt.prev[1], s.prt.prev[0] = s.prt.prev[0], l
}

// advance moves the proximity windows over an empty line.
func (s *scanner) advance() {
	p := &s.prt
	for _, x := range []*prox{&p.dob, &p.passport, &p.ssn, &p.icd, &p.flight, &p.booking, &p.hotel} {
		x.line(false, 0)
	}
	s.prt.prev[1], s.prt.prev[0] = s.prt.prev[0], ""
}
