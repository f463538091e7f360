package held

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// errReadonly is what the failing store answers a write with, as SQLite does when its
// file or folder became read-only.
var errReadonly = errors.New("attempt to write a readonly database (8)")

// failStore is a quarantine.Store whose writes fail while fail says so for the
// operation (by method name); reads always work, as with a read-only database file.
type failStore struct {
	quarantine.Store
	mu     sync.Mutex
	fail   func(op string) bool
	writes map[string]int // failed writes, by method
}

func newFailStore(s quarantine.Store) *failStore {
	return &failStore{Store: s, writes: map[string]int{}}
}

// failWrites makes every write fail (all true) or none (all false).
func (f *failStore) failWrites(all bool) {
	f.failOnly(func(string) bool { return all })
}

// failOnly makes the writes fail for which fn is true.
func (f *failStore) failOnly(fn func(op string) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}

func (f *failStore) check(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil && f.fail(op) {
		f.writes[op]++
		return errReadonly
	}
	return nil
}

func (f *failStore) failed(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes[op]
}

func (f *failStore) Hold(ctx context.Context, m quarantine.Message, raw io.Reader) (string, error) {
	if err := f.check("Hold"); err != nil {
		return "", err
	}
	return f.Store.Hold(ctx, m, raw)
}

func (f *failStore) Transition(ctx context.Context, id string, from, to quarantine.State, actor, remote, note string) error {
	if err := f.check("Transition"); err != nil {
		return err
	}
	return f.Store.Transition(ctx, id, from, to, actor, remote, note)
}

func (f *failStore) Purge(ctx context.Context, olderThan time.Time) (int, error) {
	if err := f.check("Purge"); err != nil {
		return 0, err
	}
	return f.Store.Purge(ctx, olderThan)
}

func (f *failStore) Release(ctx context.Context, id string, to quarantine.State, rcpts []string, actor, remote, note string) error {
	if err := f.check("Release"); err != nil {
		return err
	}
	return f.Store.Release(ctx, id, to, rcpts, actor, remote, note)
}

func (f *failStore) NextDelivery(ctx context.Context, now time.Time) (quarantine.Message, bool, error) {
	if err := f.check("NextDelivery"); err != nil {
		return quarantine.Message{}, false, err
	}
	return f.Store.NextDelivery(ctx, now)
}

func (f *failStore) Delivered(ctx context.Context, id, reply string) error {
	if err := f.check("Delivered"); err != nil {
		return err
	}
	return f.Store.Delivered(ctx, id, reply)
}

func (f *failStore) DeliveryFailed(ctx context.Context, id, errText string, retryAt time.Time) error {
	if err := f.check("DeliveryFailed"); err != nil {
		return err
	}
	return f.Store.DeliveryFailed(ctx, id, errText, retryAt)
}

func (f *failStore) RetryDelivery(ctx context.Context, id, actor, remote string) error {
	if err := f.check("RetryDelivery"); err != nil {
		return err
	}
	return f.Store.RetryDelivery(ctx, id, actor, remote)
}

func (f *failStore) RecoverDeliveries(ctx context.Context, claimedBefore time.Time) (int, error) {
	if err := f.check("RecoverDeliveries"); err != nil {
		return 0, err
	}
	return f.Store.RecoverDeliveries(ctx, claimedBefore)
}

func (f *failStore) Committing(ctx context.Context, id string) error {
	if err := f.check("Committing"); err != nil {
		return err
	}
	return f.Store.Committing(ctx, id)
}

func (f *failStore) DeliveryUnknown(ctx context.Context, id, errText string) error {
	if err := f.check("DeliveryUnknown"); err != nil {
		return err
	}
	return f.Store.DeliveryUnknown(ctx, id, errText)
}

func (f *failStore) SetNotice(ctx context.Context, id string, n quarantine.Notice, errText string, retryAt time.Time) error {
	if err := f.check("SetNotice"); err != nil {
		return err
	}
	return f.Store.SetNotice(ctx, id, n, errText, retryAt)
}

func (f *failStore) SetReminder(ctx context.Context, id string, at time.Time) error {
	if err := f.check("SetReminder"); err != nil {
		return err
	}
	return f.Store.SetReminder(ctx, id, at)
}

func (f *failStore) Confirm(ctx context.Context, sender string, domains []string, messageID string) error {
	if err := f.check("Confirm"); err != nil {
		return err
	}
	return f.Store.Confirm(ctx, sender, domains, messageID)
}

func (f *failStore) ClaimNotice(ctx context.Context, id string, kind quarantine.NoticeKind, now time.Time) (int, error) {
	if err := f.check("ClaimNotice"); err != nil {
		return 0, err
	}
	return f.Store.ClaimNotice(ctx, id, kind, now)
}

func (f *failStore) SettleNotice(ctx context.Context, id string, kind quarantine.NoticeKind, n quarantine.Notice, errText string, retryAt time.Time) error {
	if err := f.check("SettleNotice"); err != nil {
		return err
	}
	return f.Store.SettleNotice(ctx, id, kind, n, errText, retryAt)
}

func (f *failStore) Expire(ctx context.Context, id, note string, returnToSender bool) error {
	if err := f.check("Expire"); err != nil {
		return err
	}
	return f.Store.Expire(ctx, id, note, returnToSender)
}

func (f *failStore) RecoverNotices(ctx context.Context, claimedBefore time.Time) (int, error) {
	if err := f.check("RecoverNotices"); err != nil {
		return 0, err
	}
	return f.Store.RecoverNotices(ctx, claimedBefore)
}
