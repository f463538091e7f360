package intake

import (
	"bytes"
	"context"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// applyContent classifies the message with s.Content when its content could change the
// decision, and applies the content rules to the plan's recipients (guard.WithContent):
// their verdicts and reasons become the escalated ones, and a recipient that now stops
// the mail has it held. Without a guard loaded the decision stands as it is, and the
// log says the content was not checked.
func (ss *session) applyContent(ctx context.Context, p *plan, msg []byte) {
	s := ss.srv
	if s.Content == nil {
		return
	}
	var g *guard.Guard
	if s.Guard != nil {
		g = s.Guard.Load()
	}
	if !s.ContentRules.Matter(g, p.decisions) {
		return
	}
	if g == nil {
		s.log.Warn("intake: no guard loaded to apply the content rules; the decision stands without them", "queue_id", p.queueID)
		return
	}
	r := s.Content.Classify(ctx, bytes.NewReader(msg))
	md := g.WithContent(guard.MessageDecision{Recipients: p.decisions}, r, s.ContentRules)
	p.content, p.contentSkipped = md.Content, md.ContentSkipped
	p.decisions = md.Recipients
	for i, d := range md.Recipients {
		p.rcpts[i].Verdict, p.rcpts[i].Reason = d.Verdict, d.Reason
		p.hold = p.hold || d.Enforced().Stops()
	}
}

// handedOver is the guard's decision as the policy service's hand-over recorded it, for
// the content rules: the address, verdict and reason.
func handedOver(r quarantine.Recipient) guard.Decision {
	a, err := address.Parse(r.Address)
	return guard.Decision{Input: r.Address, Address: a, Verdict: r.Verdict, Reason: r.Reason, Err: err}
}
