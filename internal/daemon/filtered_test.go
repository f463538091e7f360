package daemon

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

type holdFunc func(quarantine.Message, string) (string, error)

func (f holdFunc) Hold(_ context.Context, m quarantine.Message, raw io.Reader) (string, error) {
	b, _ := io.ReadAll(raw)
	return f(m, string(b))
}

// TestIntakeHoldsWithWhatThePolicyServiceSaw: the intake's holds carry the user, client and
// queue ID the policy service saw for the message, found by the queue ID in Postfix's
// Received field; content passes unchanged; unknown or expired queue IDs change nothing.
func TestIntakeHoldsWithWhatThePolicyServiceSaw(t *testing.T) {
	var memo filtered
	now := time.Now()
	memo.put("4XyZ1abc", "alice", "192.0.2.7", now)
	memo.put("OLD1", "bob", "192.0.2.8", now.Add(-filteredKeep-time.Minute))
	var got quarantine.Message
	var content string
	h := intakeHolder{memo: &memo, next: holdFunc(func(m quarantine.Message, raw string) (string, error) {
		got, content = m, raw
		return "id", nil
	})}
	for _, tc := range []struct{ qid, user, client, queue string }{
		{"4XyZ1abc", "alice", "192.0.2.7", "4XyZ1abc"},
		{"OLD1", "", "127.0.0.1", "relay.1"},
		{"NOPE", "", "127.0.0.1", "relay.1"},
	} {
		raw := "Received: from localhost by rg (rcptguard) id relay.1\r\n" +
			"Received: from client.example (client.example [192.0.2.7])\r\n\tby mx.example.org (Postfix) with ESMTPSA id " +
			tc.qid + "\r\n\tfor <bob@army.ml>; Fri, 27 Nov 2026 13:00:00 +0000 (UTC)\r\nSubject: x\r\n\r\nbody\r\n"
		if _, err := h.Hold(context.Background(), quarantine.Message{QueueID: "relay.1", ClientAddr: "127.0.0.1"},
			strings.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		if got.AuthUser != tc.user || got.ClientAddr != tc.client || got.QueueID != tc.queue || content != raw {
			t.Errorf("%s: held %+v", tc.qid, got)
		}
	}
}
