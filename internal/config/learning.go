package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Learning configures what rcptguard learns from the mail that goes out. Each sender's
// own history (per sender address and recipient domain) lets a sender's habitual
// recipient pass when it looks like a known correspondent or a mailbox provider; domains
// that several senders confirmed are proposed to the administrators for
// organisation-wide trust.
type Learning struct {
	// SenderMin: a recipient domain flagged only as a lookalike of a known correspondent
	// or a provider is allowed for a sender who wrote to that exact domain at least this
	// many times, on at least two different days; 0 turns the rule off.
	SenderMin int64
	// SenderForgetAfter: a sender's row for a recipient domain not written to for this
	// long is deleted.
	SenderForgetAfter time.Duration
	// SenderMaxRows caps the senders' histories; past it, the least recently seen rows
	// are deleted.
	SenderMaxRows int
	// ProposeAfter: a domain that this many distinct senders confirmed on the validation
	// page ("send as addressed") is proposed to the administrators for organisation-wide
	// trust. It is never trusted without an administrator.
	ProposeAfter int
}

// The built-in learning settings.
const (
	DefaultSenderMin         = 5
	DefaultSenderForgetAfter = 365 * 24 * time.Hour
	DefaultSenderMaxRows     = 1_000_000
	maxSenderMin             = 1_000_000
	minSenderForgetAfter     = 24 * time.Hour
	maxSenderForgetAfter     = 3650 * 24 * time.Hour
	minSenderMaxRows         = 1000
	maxSenderMaxRows         = 100_000_000
	DefaultProposeAfter      = 3
	maxProposeAfter          = 1000
)

func defaultLearning(c *Config) {
	c.Learning = Learning{SenderMin: DefaultSenderMin, SenderForgetAfter: DefaultSenderForgetAfter, SenderMaxRows: DefaultSenderMaxRows,
		ProposeAfter: DefaultProposeAfter}
}

type rawLearning struct {
	SenderMin         yaml.Node `yaml:"sender_min"`
	SenderForgetAfter yaml.Node `yaml:"sender_forget_after"`
	SenderMaxRows     yaml.Node `yaml:"sender_max_rows"`
	ProposeAfter      yaml.Node `yaml:"propose_after"`
}

func (r *rawFile) applyLearning(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	l := &r.Learning
	add(integer("learning.sender_min", &l.SenderMin, &c.Learning.SenderMin, 0, maxSenderMin))
	add(duration("learning.sender_forget_after", &l.SenderForgetAfter, &c.Learning.SenderForgetAfter, minSenderForgetAfter, maxSenderForgetAfter))
	var rows int64
	if e := integer("learning.sender_max_rows", &l.SenderMaxRows, &rows, minSenderMaxRows, maxSenderMaxRows); e != nil {
		add(e)
	} else if present(&l.SenderMaxRows) {
		c.Learning.SenderMaxRows = int(rows)
	}
	var propose int64
	if e := integer("learning.propose_after", &l.ProposeAfter, &propose, 1, maxProposeAfter); e != nil {
		add(e)
	} else if present(&l.ProposeAfter) {
		c.Learning.ProposeAfter = int(propose)
	}
	return errs
}

// validate checks settings made by code (Parse has checked those from a file).
func (l Learning) validate() []string {
	var bad []string
	if l.SenderMin < 0 || l.SenderMin > maxSenderMin {
		bad = append(bad, fmt.Sprintf("learning.sender_min: %d is not from 0 to %d", l.SenderMin, maxSenderMin))
	}
	if l.SenderForgetAfter < minSenderForgetAfter || l.SenderForgetAfter > maxSenderForgetAfter {
		bad = append(bad, fmt.Sprintf("learning.sender_forget_after: %s is not from %s to %s", l.SenderForgetAfter, minSenderForgetAfter, maxSenderForgetAfter))
	}
	if l.SenderMaxRows < minSenderMaxRows || l.SenderMaxRows > maxSenderMaxRows {
		bad = append(bad, fmt.Sprintf("learning.sender_max_rows: %d is not from %d to %d", l.SenderMaxRows, minSenderMaxRows, maxSenderMaxRows))
	}
	if l.ProposeAfter < 1 || l.ProposeAfter > maxProposeAfter {
		bad = append(bad, fmt.Sprintf("learning.propose_after: %d is not from 1 to %d", l.ProposeAfter, maxProposeAfter))
	}
	return bad
}
