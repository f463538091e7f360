package squat

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Progress shows, on a terminal, one line rewritten in place every interval: lookups done
// out of the total, the rate and the time left.
type Progress struct {
	w           io.Writer
	total, done atomic.Int64
	start       time.Time
	stop, ended chan struct{}
}

// NewProgress starts showing progress on w every interval; Stop ends it.
func NewProgress(w io.Writer, interval time.Duration) *Progress {
	p := &Progress{w: w, start: time.Now(), stop: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(p.ended)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				p.draw(false)
			case <-p.stop:
				p.draw(true)
				return
			}
		}
	}()
	return p
}

// SetTotal sets how many lookups there are.
func (p *Progress) SetTotal(n int64) { p.total.Store(n) }

// Done counts n lookups done.
func (p *Progress) Done(n int64) { p.done.Add(n) }

// Stop draws a last time and stops.
func (p *Progress) Stop() {
	close(p.stop)
	<-p.ended
}

func (p *Progress) draw(last bool) {
	l := ProgressLine(p.done.Load(), p.total.Load(), time.Since(p.start))
	end := ""
	if last {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s%s", l, end)
}

// ProgressLine is "1200/5400 lookups (22%), 812/s, ETA 5s".
func ProgressLine(done, total int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	l := fmt.Sprintf("%d/%d lookups", done, total)
	if total > 0 {
		l += fmt.Sprintf(" (%d%%)", min(100, done*100/total))
	}
	l += fmt.Sprintf(", %.0f/s", rate)
	switch {
	case done >= total:
		l += ", done"
	case rate > 0:
		l += ", ETA " + time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second).String()
	}
	return l
}
