package scan

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Progress shows, on a terminal, each source being read: bytes and lines read, rate and
// the time left (when the size is known). It writes one line per source, rewritten in
// place, every Interval.
type Progress struct {
	w        io.Writer
	interval time.Duration
	mu       sync.Mutex
	files    []*progressFile
	stop     chan struct{}
	done     chan struct{}
	drawn    int // lines drawn last time
}

type progressFile struct {
	name        string
	size        int64
	read, lines *atomic.Int64
	start       time.Time
	finished    bool
}

// NewProgress starts showing progress on w every interval; Stop ends it.
func NewProgress(w io.Writer, interval time.Duration) *Progress {
	p := &Progress{w: w, interval: interval, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// Start shows one source; the returned function marks it done.
func (p *Progress) Start(name string, size int64, read, lines *atomic.Int64) func() {
	f := &progressFile{name: name, size: size, read: read, lines: lines, start: time.Now()}
	p.mu.Lock()
	p.files = append(p.files, f)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		f.finished = true
		p.mu.Unlock()
	}
}

// Stop draws a last time and stops.
func (p *Progress) Stop() {
	close(p.stop)
	<-p.done
}

func (p *Progress) loop() {
	defer close(p.done)
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			p.draw()
		case <-p.stop:
			p.draw()
			return
		}
	}
}

func (p *Progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b []byte
	if p.drawn > 0 {
		b = fmt.Appendf(b, "\x1b[%dA", p.drawn) // back to the first line drawn
	}
	now := time.Now()
	for _, f := range p.files {
		b = append(b, "\r\x1b[K"...)
		b = append(b, Line(f.name, f.size, f.read.Load(), f.lines.Load(), now.Sub(f.start), f.finished)...)
		b = append(b, '\n')
	}
	// A finished source's last line stays; the next draw rewrites only the others.
	p.files = slices.DeleteFunc(p.files, func(f *progressFile) bool { return f.finished })
	p.drawn = len(p.files)
	p.w.Write(b)
}

// Line is one source's progress line.
func Line(name string, size, read, lines int64, elapsed time.Duration, finished bool) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(read) / s
	}
	l := fmt.Sprintf("%s: %s, %d lines, %s/s", name, bytesText(float64(read)), lines, bytesText(rate))
	switch {
	case finished:
		l += ", done"
	case size > 0:
		l += fmt.Sprintf(", %d%%", min(100, read*100/size))
		if rate > 0 {
			l += ", ETA " + time.Duration(float64(size-read)/rate*float64(time.Second)).Round(time.Second).String()
		}
	}
	return l
}

func bytesText(n float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
