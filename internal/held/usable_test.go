package held

import (
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// unusableStore is a store that says its files cannot be written (an unwritable -shm
// file: touching the database would end the process).
type unusableStore struct {
	quarantine.Store
	bad atomic.Bool
}

func (u *unusableStore) Usable() error {
	if u.bad.Load() {
		return errors.New("quarantine: database files cannot be written: quarantine.db-shm")
	}
	return nil
}

// TestUnusableStoreIsNotTouched: while the store says it cannot be used, a pass of the
// background loop touches nothing (no notice, no expiry), counts a store error and says
// why; once it can be used, the notice goes out once.
func TestUnusableStoreIsNotTouched(t *testing.T) {
	f := newFixture(t)
	u := &unusableStore{Store: f.store}
	f.svc.Store = u
	storeErrors := 0
	f.svc.StoreError = func() { storeErrors++ }
	logs := &testenv.SyncBuffer{}
	f.svc.Logger = slog.New(slog.NewTextHandler(logs, nil))
	f.hold(t, heldMessage())
	u.bad.Store(true)
	f.passes(3, time.Minute)
	if n := len(f.notices.Messages()); n != 0 {
		t.Fatalf("%d notices sent through an unusable store", n)
	}
	if storeErrors != 3 {
		t.Errorf("%d store errors counted, want one a pass (3)", storeErrors)
	}
	if !strings.Contains(logs.String(), "quarantine cannot be used") {
		t.Errorf("no log line:\n%s", logs.String())
	}
	u.bad.Store(false)
	f.passes(2, time.Minute)
	if n := len(f.notices.Messages()); n != 1 {
		t.Errorf("%d notices once the store is usable, want 1", n)
	}
}
