package content

import (
	"regexp"
	"sync"
)

// lazyRE is a regular expression compiled on first use. The classifier's
// expressions take milliseconds to compile, and most runs of the binary
// (permute, check, the policy service) never classify; New compiles them all
// (compileAll), so the first message does not wait for them.
type lazyRE struct {
	once sync.Once
	expr string
	re   *regexp.Regexp
}

// allREs are the package's expressions, for compileAll.
var allREs []*lazyRE

// lazy declares an expression; it panics on first use if expr does not
// compile (they are constants, and the tests use every one).
func lazy(expr string) *lazyRE {
	l := &lazyRE{expr: expr}
	allREs = append(allREs, l)
	return l
}

func (l *lazyRE) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re
}

// compileAll compiles every expression not compiled yet.
func compileAll() {
	for _, l := range allREs {
		l.get()
	}
}

func (l *lazyRE) MatchString(s string) bool { return l.get().MatchString(s) }

func (l *lazyRE) FindAllString(s string, n int) []string { return l.get().FindAllString(s, n) }

func (l *lazyRE) FindAllStringIndex(s string, n int) [][]int {
	return l.get().FindAllStringIndex(s, n)
}

func (l *lazyRE) FindAllStringSubmatch(s string, n int) [][]string {
	return l.get().FindAllStringSubmatch(s, n)
}
