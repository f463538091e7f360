package httpapi

import (
	"context"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// contentNote says what became of the message a request carried.
type contentNote struct {
	checked bool   // the classifier read it (perhaps only in part: md.ContentSkipped)
	note    string // why it was not checked, or not completely
}

// applyContent applies the content rules to md with what msg carries, as the milter and
// the relay do: only when content rules are on and the content can change the decision
// (a recipient is flagged, or an on_any_external rule exists).
func (a *API) applyContent(ctx context.Context, g *guard.Guard, md guard.MessageDecision, msg *message) (guard.MessageDecision, contentNote) {
	switch {
	case a.Content == nil:
		return md, contentNote{note: "content rules are off (content.enabled is false): the message was not read"}
	case !a.ContentRules.Matter(g, md.Recipients):
		return md, contentNote{note: "no recipient is flagged, and no on_any_external rule exists or every recipient is in the own domains or the allow list: the content cannot change the decision, so the message was not read"}
	}
	r := a.Content.Classify(ctx, msg.r)
	cn := contentNote{checked: true}
	if r.Skipped && len(r.NotRead) > 0 {
		cn.note = "the message was not checked for content: " + r.NotRead[len(r.NotRead)-1].Why
		if len(r.Findings) > 0 {
			cn.note = "the message was checked for content only in part: " + r.NotRead[len(r.NotRead)-1].Why
		}
	}
	return g.WithContent(md, r, a.ContentRules), cn
}

// appendJSON appends the content fields of the answer: content_checked, content (the
// categories found), content_skipped, and content_note when there is something to say.
func (cn contentNote) appendJSON(b []byte, md guard.MessageDecision) []byte {
	b = append(b, `,"content_checked":`...)
	if cn.checked {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `,"content":[`...)
	for i, c := range md.Content {
		if i > 0 {
			b = append(b, ',')
		}
		b = guard.AppendJSONString(b, c)
	}
	b = append(b, `],"content_skipped":`...)
	if md.ContentSkipped {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	if cn.note != "" {
		b = append(b, `,"content_note":`...)
		b = guard.AppendJSONString(b, cn.note)
	}
	return b
}
