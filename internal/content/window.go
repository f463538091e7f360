package content

// proxWindow is how many lines (this one and the ones before) a keyword and
// the thing it qualifies may be apart: "Date of birth" on one line and the
// date on the next still count.
const proxWindow = 3

// prox pairs a context (a keyword such as "date of birth") with triggers (a
// date) seen within proxWindow lines of each other, in either order. Each
// trigger is counted once.
type prox struct {
	ctxAge  int             // lines since the context was last seen
	pending [proxWindow]int // triggers not yet counted, by age
}

func newProx() prox { return prox{ctxAge: proxWindow} }

// line advances one line: ctx says whether the context is on it, n how many
// triggers it has. It returns how many triggers now count.
func (p *prox) line(ctx bool, n int) int {
	if p.ctxAge < proxWindow {
		p.ctxAge++
	}
	copy(p.pending[1:], p.pending[:proxWindow-1])
	p.pending[0] = 0
	if ctx {
		p.ctxAge = 0
	}
	got := 0
	if p.ctxAge < proxWindow {
		got = n
		if ctx {
			for i := range p.pending {
				got += p.pending[i]
				p.pending[i] = 0
			}
		}
	} else {
		p.pending[0] = n
	}
	return got
}

// near says whether triggers on the coming line would count: its context is
// on it (ctx) or was on one of the lines before within the window.
func (p *prox) near(ctx bool) bool { return ctx || p.ctxAge+1 < proxWindow }

// waiting says whether triggers before the coming line wait for a context.
func (p *prox) waiting() bool {
	for _, n := range p.pending[:proxWindow-1] {
		if n > 0 {
			return true
		}
	}
	return false
}
