package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/held"
)

type holdFunc func(held.Submission) (string, error)

func (f holdFunc) Hold(_ context.Context, sub held.Submission) (string, error) { return f(sub) }

// TestIntakeHoldsWithWhatThePolicyServiceSaw: the intake's holds carry the user, client and
// queue ID the policy service saw for the message, found by the queue ID in Postfix's
// Received field; content passes unchanged; unknown or expired queue IDs change nothing.
func TestIntakeHoldsWithWhatThePolicyServiceSaw(t *testing.T) {
	var memo filtered
	now := time.Now()
	memo.put("4XyZ1abc", "alice", "192.0.2.7", now)
	memo.put("OLD1", "bob", "192.0.2.8", now.Add(-filteredKeep-time.Minute))
	var got held.Submission
	h := intakeHolder{memo: &memo, next: holdFunc(func(sub held.Submission) (string, error) {
		got = sub
		return "id", nil
	})}
	for _, tc := range []struct{ qid, user, client, queue string }{
		{"4XyZ1abc", "alice", "192.0.2.7", "4XyZ1abc"},
		{"OLD1", "", "127.0.0.1", "relay.1"},
		{"NOPE", "", "127.0.0.1", "relay.1"},
	} {
		trace := "Received: from localhost by rg (rcptguard) id relay.1\r\n"
		raw := "Received: from client.example (client.example [192.0.2.7])\r\n\tby mx.example.org (Postfix) with ESMTPSA id " +
			tc.qid + "\r\n\tfor <bob@army.ml>; Fri, 27 Nov 2026 13:00:00 +0000 (UTC)\r\nSubject: x\r\n\r\nbody\r\n"
		if _, err := h.Hold(context.Background(), held.Submission{QueueID: "relay.1", ClientAddr: "127.0.0.1",
			Trace: trace, Content: []byte(raw)}); err != nil {
			t.Fatal(err)
		}
		if got.AuthUser != tc.user || got.ClientAddr != tc.client || got.QueueID != tc.queue ||
			got.Trace != trace || string(got.Content) != raw {
			t.Errorf("%s: held %+v", tc.qid, got)
		}
	}
}
