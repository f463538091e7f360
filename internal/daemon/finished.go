package daemon

import (
	"strings"
	"sync"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// finished is told by every door of each message's check state once the message is
// decided. The history learns from the mail that went out, once per message even when two
// doors saw it: Postfix with both the policy service and the milter hands the same
// message, with the same queue ID, to each.
func (d *Daemon) finished(t guard.Transaction) {
	if t.Outcome != guard.Delivered {
		return
	}
	// The key has the sender too: the queue IDs of two Postfix hosts may meet.
	key := t.QueueID + " " + strings.ToLower(strings.Trim(t.Sender, "<> "))
	if (t.Adapter == "policy" || t.Adapter == "milter") && t.QueueID != "" && !d.postfixSeen.first(key) {
		return
	}
	for _, dec := range t.Recipients {
		// An allowed recipient with a finding was let through by the sender's own
		// history or by a policy that allows lookalikes: only the sender's history
		// learns it.
		d.learnFrom(t.Sender, dec.Input, dec.Verdict, dec.Familiar != nil || len(dec.Findings) > 0)
	}
}

// queueIDs remembers the last queueIDsKept queue IDs it was shown.
type queueIDs struct {
	mu   sync.Mutex
	seen map[string]bool
	ring []string
	next int
}

// queueIDsKept is far more messages than Postfix hands the two doors apart in time.
const queueIDsKept = 50_000

// first reports whether id was not shown before.
func (q *queueIDs) first(id string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.seen[id] {
		return false
	}
	if q.seen == nil {
		q.seen, q.ring = map[string]bool{}, make([]string, queueIDsKept)
	}
	delete(q.seen, q.ring[q.next])
	q.ring[q.next] = id
	q.next = (q.next + 1) % queueIDsKept
	q.seen[id] = true
	return true
}
