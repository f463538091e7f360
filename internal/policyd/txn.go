package policyd

import (
	"container/list"
	"slices"
	"sync"
)

// txn is what the adapter remembers of one mail transaction between its RCPT requests and
// its END-OF-MESSAGE request: the recipients it let pass (answered with DUNNO or PREPEND),
// so that the guard can decide about the whole message at the end.
type txn struct {
	key    string
	sender string
	seen   int      // RCPT requests let pass, repeats included (Postfix counts them too)
	rcpts  []string // distinct recipients let pass, in order
	held   bool     // one of them is to be held (monitor mode or not)
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

// add records that rcpt of the transaction key was let pass, and whether it is to be held.
func (t *txnTable) add(key, sender, rcpt string, held bool) addResult {
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
	if !slices.Contains(x.rcpts, rcpt) {
		if len(x.rcpts) >= t.maxRcpts {
			return addResult{full: true}
		}
		x.rcpts = append(x.rcpts, rcpt)
		t.total++
	}
	x.seen++
	x.held = x.held || held
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
