package policyd

import (
	"container/list"
	"sync"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// txn is what the adapter remembers of one mail transaction between its RCPT requests and
// its END-OF-MESSAGE request: the recipients it let pass (answered with DUNNO or PREPEND)
// with the guard's decision for each, so that the message is decided at the end from the
// decisions made at RCPT, without asking the guard again (which a reload may have
// changed meanwhile).
type txn struct {
	key    string
	sender string
	seen   int              // RCPT requests let pass, repeats included (Postfix counts them too)
	rcpts  []guard.Decision // distinct recipients let pass, in order, with their decisions
	held   bool             // one of them is to be held (monitor mode or not)
}

// decision is the decision kept for rcpt, or nil.
func (t *txn) decision(rcpt string) *guard.Decision {
	for i := range t.rcpts {
		if t.rcpts[i].Input == rcpt {
			return &t.rcpts[i]
		}
	}
	return nil
}

// txnTable holds the open transactions of all connections, keyed by the Postfix host and
// the instance attribute. It is shared by all connections, not kept per connection,
// because Postfix may reconnect between RCPT and END-OF-MESSAGE (max_idle, max_ttl,
// request_limit) or send the two stages over two connections when the two restriction
// lists name the service differently.
//
// Memory is bounded: at most maxTxns transactions and maxTotal recipients, the least
// recently used transaction dropped first, and at most maxRcpts recipients in one
// transaction. A dropped transaction is not lost silently: its END-OF-MESSAGE finds fewer
// recipients than Postfix accepted and is deferred.
type txnTable struct {
	maxTxns, maxRcpts, maxTotal int

	mu    sync.Mutex
	byKey map[string]*list.Element // of *txn
	lru   list.List                // front: most recently used
	total int                      // recipients held in all transactions
}

func newTxnTable(maxTxns, maxRcpts, maxTotal int) *txnTable {
	return &txnTable{maxTxns: maxTxns, maxRcpts: maxRcpts, maxTotal: maxTotal, byKey: map[string]*list.Element{}}
}

// addResult says what add did.
type addResult struct {
	full    bool // the transaction holds maxRcpts recipients: rcpt was not added
	evicted int  // transactions dropped to make room
}

// add records that the recipient d.Input of the transaction key was let pass with the
// decision d.
func (t *txnTable) add(key, sender string, d guard.Decision) addResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	var res addResult
	e := t.byKey[key]
	if e == nil {
		e = t.lru.PushFront(&txn{key: key, sender: sender})
		t.byKey[key] = e
	} else {
		t.lru.MoveToFront(e)
	}
	x := e.Value.(*txn)
	if prev := x.decision(d.Input); prev != nil {
		if d.Verdict > prev.Verdict {
			*prev = d // a repeat decided more severely (a reload in between): keep the worse
		}
	} else {
		if len(x.rcpts) >= t.maxRcpts {
			return addResult{full: true}
		}
		x.rcpts = append(x.rcpts, d)
		t.total++
	}
	x.seen++
	x.held = x.held || d.Verdict == guard.Hold
	for t.lru.Len() > 1 && (t.lru.Len() > t.maxTxns || t.total > t.maxTotal) {
		t.remove(t.lru.Back())
		res.evicted++
	}
	return res
}

// take removes the transaction key and returns it, or nil when there is none.
func (t *txnTable) take(key string) *txn {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.byKey[key]
	if e == nil {
		return nil
	}
	t.remove(e)
	return e.Value.(*txn)
}

// len returns the number of transactions and of recipients held.
func (t *txnTable) len() (txns, rcpts int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len(), t.total
}

func (t *txnTable) remove(e *list.Element) {
	x := e.Value.(*txn)
	t.lru.Remove(e)
	delete(t.byKey, x.key)
	t.total -= len(x.rcpts)
}
