package milter

import (
	"context"
	"fmt"

	classifier "github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// classify applies the content rules to md: the message's content, collected as it came
// (header fields, blank line, body), goes through s.Content, whose result the guard
// applies (guard.WithContent). Content that could not be collected (larger than
// MaxMessageBytes, or not stored) is a skipped result: the decision stands and says so.
func (c *session) classify(msg *message, md guard.MessageDecision) guard.MessageDecision {
	if !msg.collect(c.s) {
		return md
	}
	var r classifier.Result
	raw, err := msg.content.raw()
	if err != nil {
		r = classifier.Result{Skipped: true, NotRead: []classifier.NotRead{{Part: "message", Why: notReadWhy(err)}}}
	} else {
		r = c.s.Content.Classify(context.Background(), raw)
	}
	return msg.g.WithContent(md, r, c.s.ContentRules)
}

func notReadWhy(err error) string {
	return fmt.Sprintf("not collected: %v", err)
}
