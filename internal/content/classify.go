package content

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// limitErr is a limit of Config.Limits that the message went over: the
// message is skipped.
type limitErr struct{ why string }

func (e limitErr) Error() string { return e.why }

// input counts the bytes of the message and stops it at MaxMessage or when
// the time is up.
type input struct {
	r   io.Reader
	n   int64
	max int64
	ctx context.Context
}

func (in *input) Read(p []byte) (int, error) {
	if in.ctx.Err() != nil {
		return 0, errDeadline
	}
	if in.n > in.max {
		return 0, limitErr{fmt.Sprintf("larger than the limit of %s", size(in.max))}
	}
	if rest := in.max + 1 - in.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	return n, err
}

// Classify reads one whole RFC 5322 message (headers and body) as it streams
// and returns the categories found. It never fails: what could not be read is
// in Result.NotRead, and a message over the limits is Result.Skipped, with what was
// found before the limit.
// MaxTime is checked between reads and lines: a reader that blocks is not
// interrupted, so the caller bounds its own reads (spool file, connection
// with a deadline).
func (c *Classifier) Classify(ctx context.Context, msg io.Reader) Result {
	ctx, cancel := context.WithTimeout(ctx, c.limits.MaxTime)
	defer cancel()
	in := &input{r: msg, max: c.limits.MaxMessage, ctx: ctx}
	w := &walker{cl: c, ctx: ctx, in: in, sc: newScanner(ctx, c)}
	err := w.message(in, 0, "message")
	if err == nil {
		// Read to the end so that a message over MaxMessage is over it
		// whatever its structure.
		_, err = io.Copy(io.Discard, in)
	}
	if err != nil {
		why := err.Error()
		if errors.Is(err, errDeadline) {
			why = fmt.Sprintf("not read within the time limit of %s", c.limits.MaxTime)
		}
		// What was found before the limit is real evidence: it stays.
		return Result{Skipped: true, Findings: w.sc.finish(), NotRead: append(w.notRead, NotRead{Part: "message", Why: why})}
	}
	return Result{Findings: w.sc.finish(), NotRead: w.notRead}
}

// fatal says whether an error ends the reading of the whole message.
func fatal(err error) bool {
	var le limitErr
	return errors.As(err, &le) || errors.Is(err, errDeadline)
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
