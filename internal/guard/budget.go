package guard

import (
	"context"
	"sync"
	"time"
)

// Budget is the DNS time one message has spent on live evidence (WithLive): every lookup
// for its recipients draws on it, so that a message waits at most the rule's budget in
// all, however many recipients it has. A door makes one per transaction (at MAIL FROM)
// and passes it to each CheckFrom with WithBudget. Safe for concurrent use.
type Budget struct {
	mu    sync.Mutex
	spent time.Duration
}

// NewBudget returns a budget with nothing spent.
func NewBudget() *Budget { return &Budget{} }

// Spent is the time the lookups drawing on b took so far.
func (b *Budget) Spent() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}

// left is what remains of limit, and spend records time spent.
func (b *Budget) left(limit time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return limit - b.spent
}

func (b *Budget) spend(d time.Duration) {
	b.mu.Lock()
	b.spent += d
	b.mu.Unlock()
}

type budgetKey struct{}

// WithBudget returns ctx carrying b: the lookups of CheckFrom(ctx, ...) draw on it. A
// CheckFrom whose ctx carries none has a budget of its own (one recipient alone).
func WithBudget(ctx context.Context, b *Budget) context.Context {
	return context.WithValue(ctx, budgetKey{}, b)
}

// budgetOf returns the budget ctx carries, or a new one.
func budgetOf(ctx context.Context) *Budget {
	if b, ok := ctx.Value(budgetKey{}).(*Budget); ok && b != nil {
		return b
	}
	return NewBudget()
}
