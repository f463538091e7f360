package quarantine

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// claim claims the notice and fails the test unless it gets attempt want.
func claim(t *testing.T, s Store, id string, kind NoticeKind, now time.Time, want int) {
	t.Helper()
	n, err := s.ClaimNotice(context.Background(), id, kind, now)
	if err != nil || n != want {
		t.Fatalf("claim the %s: attempt %d, %v; want %d", kind, n, err, want)
	}
}

// noClaim fails the test unless the notice cannot be claimed.
func noClaim(t *testing.T, s Store, id string, kind NoticeKind, now time.Time, why string) {
	t.Helper()
	if n, err := s.ClaimNotice(context.Background(), id, kind, now); !errors.Is(err, ErrNoticeState) {
		t.Fatalf("claim the %s %s: attempt %d, %v; want ErrNoticeState", kind, why, n, err)
	}
}

// testNoticeClaims: the first notice is claimed once, settled, retried after its time,
// and never claimed again once claimed and not settled; of concurrent claims one wins.
func testNoticeClaims(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	m := sample()
	m.Notice = NoticePending
	id := holdOne(t, s, m)
	claim(t, s, id, NoticeFirst, c.Now(), 1)
	noClaim(t, s, id, NoticeFirst, c.Now().Add(time.Hour), "while claimed")
	got, _ := s.Get(ctx, id)
	if got.Notice != NoticeSending || got.NoticeAttempts != 1 || !got.NoticeClaimed.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Fatalf("claimed: notice %q attempts %d claimed %v", got.Notice, got.NoticeAttempts, got.NoticeClaimed)
	}
	if l, _ := s.PendingNotices(ctx, c.Now().Add(time.Hour), 10); len(l) != 0 {
		t.Fatal("a claimed notice is pending")
	}
	if err := s.SettleNotice(ctx, id, NoticeFirst, NoticePending, "421 busy", time.Time{}); err == nil {
		t.Fatal("settled as pending without a retry time")
	}
	if err := s.SettleNotice(ctx, id, NoticeFirst, NoticePending, "421 busy", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SettleNotice(ctx, id, NoticeFirst, NoticeSent, "", time.Time{}); !errors.Is(err, ErrNoticeState) {
		t.Fatalf("settle without a claim: %v", err)
	}
	got, _ = s.Get(ctx, id)
	if got.Notice != NoticePending || got.NoticeError != "421 busy" || !got.NoticeClaimed.IsZero() {
		t.Fatalf("after a retry: %q %q %v", got.Notice, got.NoticeError, got.NoticeClaimed)
	}
	noClaim(t, s, id, NoticeFirst, c.Now(), "before its retry time")
	c.Advance(time.Minute)
	// Concurrent claims (two nodes, two loops): exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 4 {
		wg.Go(func() {
			if _, err := s.ClaimNotice(ctx, id, NoticeFirst, c.Now()); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrNoticeState) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent claims won, want 1", wins)
	}
	if err := s.SettleNotice(ctx, id, NoticeFirst, NoticeSent, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, id)
	if got.Notice != NoticeSent || got.NoticeAttempts != 2 || got.NoticeError != "" {
		t.Fatalf("sent: %q attempts %d %q", got.Notice, got.NoticeAttempts, got.NoticeError)
	}
	noClaim(t, s, id, NoticeFirst, c.Now().Add(time.Hour), "once sent")
	none := holdOne(t, s, sample())
	noClaim(t, s, none, NoticeFirst, c.Now(), "of a message without a notice")
	noClaim(t, s, "nosuchid", NoticeFirst, c.Now(), "of an unknown message")
	if _, err := s.ClaimNotice(ctx, id, "postcard", c.Now()); err == nil || errors.Is(err, ErrNoticeState) {
		t.Fatalf("claim of an unknown kind: %v", err)
	}
}

// testReminderAndReturnClaims: the reminder is due only after the notice was sent and
// until it is sent; the return only after an expiry that asked for it.
func testReminderAndReturnClaims(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	m := sample()
	m.Notice = NoticePending
	id := holdOne(t, s, m)
	noClaim(t, s, id, NoticeReminder, c.Now(), "before the notice was sent")
	claim(t, s, id, NoticeFirst, c.Now(), 1)
	if err := s.SettleNotice(ctx, id, NoticeFirst, NoticeSent, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	claim(t, s, id, NoticeReminder, c.Now(), 1)
	noClaim(t, s, id, NoticeReminder, c.Now(), "while claimed")
	if err := s.SettleNotice(ctx, id, NoticeReminder, NoticePending, "421", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	claim(t, s, id, NoticeReminder, c.Now(), 2)
	if err := s.SettleNotice(ctx, id, NoticeReminder, NoticeSent, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, id)
	if got.Reminder.State != NoticeSent || got.Reminder.Attempts != 2 || !got.ReminderSent.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Fatalf("reminder: %+v sent %v", got.Reminder, got.ReminderSent)
	}
	noClaim(t, s, id, NoticeReminder, c.Now().Add(time.Hour), "once sent")
	noClaim(t, s, id, NoticeReturn, c.Now(), "of a held message")

	if err := s.Expire(ctx, id, "expired; return", true); err != nil {
		t.Fatal(err)
	}
	if err := s.Expire(ctx, id, "again", true); !errors.Is(err, ErrConflict) {
		t.Fatalf("second expiry: %v, want a conflict", err)
	}
	l, err := s.PendingReturns(ctx, c.Now(), 10)
	if err != nil || len(l) != 1 || l[0].ID != id || l[0].State != Expired || l[0].Return.State != NoticePending {
		t.Fatalf("pending returns: %+v, %v", l, err)
	}
	claim(t, s, id, NoticeReturn, c.Now(), 1)
	if l, _ := s.PendingReturns(ctx, c.Now(), 10); len(l) != 0 {
		t.Fatal("a claimed return is pending")
	}
	if err := s.SettleNotice(ctx, id, NoticeReturn, NoticeFailed, "550 no", time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, id)
	if got.Return.State != NoticeFailed || got.Return.Error != "550 no" {
		t.Fatalf("return: %+v", got.Return)
	}
	noClaim(t, s, id, NoticeReturn, c.Now().Add(time.Hour), "once failed")
	ev, _ := s.Audit(ctx, id)
	if last := ev[len(ev)-1]; last.To != Expired || last.Actor != "system" || last.Note != "expired; return" {
		t.Fatalf("expiry event %+v", last)
	}

	// Expired without a return: none is due.
	other := holdOne(t, s, sample())
	if err := s.Expire(ctx, other, "expired; delete", false); err != nil {
		t.Fatal(err)
	}
	noClaim(t, s, other, NoticeReturn, c.Now(), "of a message expired without one")
}

// testRecoverNotices: claims left unsettled are noted as unknown and stay claimed; a
// recent claim is left alone.
func testRecoverNotices(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	m := sample()
	m.Notice = NoticePending
	old, recent := holdOne(t, s, m), holdOne(t, s, m)
	claim(t, s, old, NoticeFirst, c.Now(), 1)
	c.Advance(time.Hour)
	claim(t, s, recent, NoticeFirst, c.Now(), 1)
	n, err := s.RecoverNotices(ctx, c.Now().Add(-time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("RecoverNotices = %d, %v; want 1", n, err)
	}
	if n, err := s.RecoverNotices(ctx, c.Now().Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("RecoverNotices again = %d, %v; want 0", n, err)
	}
	got, _ := s.Get(ctx, old)
	if got.Notice != NoticeSending || got.NoticeError != unknownNoticeNote {
		t.Fatalf("left claim: %q %q", got.Notice, got.NoticeError)
	}
	noClaim(t, s, old, NoticeFirst, c.Now().Add(time.Hour), "whose outcome is unknown")
	if got, _ := s.Get(ctx, recent); got.NoticeError != "" {
		t.Fatalf("a recent claim was marked: %q", got.NoticeError)
	}
	// The outcome, learnt late (the store could not be written for a while), still counts.
	if err := s.SettleNotice(ctx, old, NoticeFirst, NoticeSent, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, old); got.Notice != NoticeSent || got.NoticeError != "" {
		t.Fatalf("settled late: %q %q", got.Notice, got.NoticeError)
	}
}

// A database of the schema before the notice claims (SQLite 2, PostgreSQL 1) is brought
// up to date: a reminder sent before reads as sent, and the notices work.
func TestSQLiteMigratesNoticeClaims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, _, err := sqlitedb.Open(path, migrations[:2])
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO messages (id, received, adapter, sender, auth_user, client_addr, queue_id,
		subject, size, state, expires_at, changed_at, notice, reminder_sent)
		VALUES ('m1', 1, 'relay', 'a@example.org', '', '', '', 's', 0, 'held', 2, 1, 'sent', 5)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openSQLite(t, path)
	m, err := s.Get(ctx, "m1")
	if err != nil || m.Notice != NoticeSent || m.Reminder.State != NoticeSent || m.Return.State != NoticeNone {
		t.Fatalf("after the migration: %+v, %v", m, err)
	}
	noClaim(t, s, "m1", NoticeReminder, time.Now(), "sent before the migration")
}

func TestPostgresMigratesNoticeClaims(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := migratePostgres(ctx, pool, postgresMigrations[:1]); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO messages (id, received, adapter, sender, auth_user, client_addr, queue_id,
		subject, size, state, expires_at, changed_at, notice, reminder_sent)
		VALUES ('m1', 1, 'relay', 'a@example.org', '', '', '', 's', 0, 'held', 2, 1, 'sent', 5)`)
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openPostgres(t, dsn)
	m, err := s.Get(ctx, "m1")
	if err != nil || m.Notice != NoticeSent || m.Reminder.State != NoticeSent || m.Return.State != NoticeNone {
		t.Fatalf("after the migration: %+v, %v", m, err)
	}
	noClaim(t, s, "m1", NoticeReminder, time.Now(), "sent before the migration")
}
