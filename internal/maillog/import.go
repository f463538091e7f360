package maillog

import (
	"context"
	"errors"
	"io"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/history"
)

// ImportBatch is the number of deliveries learned in one call (one transaction).
const ImportBatch = 1000

// ImportStats count what an import read and learned.
type ImportStats struct {
	Stats
	// Learned and Refused are the deliveries the learner recorded and refused.
	Learned, Refused int
	// Ignored are deliveries not offered to the learner: not by Postfix's SMTP client
	// (local, virtual, lmtp, pipe deliveries stay inside), or to an address without a
	// valid domain.
	Ignored int
}

// Import reads a Postfix log and teaches the learner whom the organisation wrote to: every
// delivery with status=sent by the SMTP client, in batches of ImportBatch. opts.Failed is
// ignored. An import is not one transaction: when it fails, the batches before the error
// stay learned, and importing the same log twice counts its mail twice.
func Import(ctx context.Context, r io.Reader, opts Options, learner *history.Learner) (ImportStats, error) {
	var st ImportStats
	if learner == nil {
		return st, errors.New("maillog: Import needs a learner")
	}
	opts.Failed = false
	batch := make([]history.Observation, 0, ImportBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		learned, refused, err := learner.Learn(ctx, batch)
		st.Learned += learned
		st.Refused += refused
		batch = batch[:0]
		return err
	}
	var err error
	st.Stats, err = ReadPostfix(ctxReader{ctx, r}, opts, func(d Delivery) error {
		o, ok := observation(d)
		if !ok {
			st.Ignored++
			return nil
		}
		batch = append(batch, o)
		if len(batch) == ImportBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return st, err
}

// observation is what a delivery teaches, if anything.
func observation(d Delivery) (history.Observation, bool) {
	if d.Agent != "smtp" || d.Status != "sent" {
		return history.Observation{}, false
	}
	to, err := address.Parse("<" + d.To + ">")
	if err != nil {
		return history.Observation{}, false
	}
	o := history.Observation{Domain: to.Domain.ASCII, At: d.Time, Count: 1}
	if d.From != "" {
		if from, err := address.Parse("<" + d.From + ">"); err == nil {
			o.SenderDomain = from.Domain.ASCII
		}
	}
	return o, true
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Tally counts, per recipient domain, the deliveries that Import would offer the learner.
// An import reads its logs twice: once to tally, so that the engine that judges the
// deliveries already knows every domain of the logs and their volumes (a lookalike of a
// domain mailed far more often in the same log is then refused too), then to learn.
func Tally(ctx context.Context, r io.Reader, opts Options, counts map[string]int64) error {
	opts.Failed = false
	_, err := ReadPostfix(ctxReader{ctx, r}, opts, func(d Delivery) error {
		if o, ok := observation(d); ok {
			counts[o.Domain]++
		}
		return nil
	})
	return err
}
