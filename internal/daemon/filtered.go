package daemon

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/held"
)

// filtered remembers, by Postfix queue ID, what the policy service knew of each message it
// answered FILTER for: the authenticated user and the client. Postfix itself then hands
// the message to the intake, which sees neither; the intake's holds take them from here.
// It lives in memory: after a restart, a message Postfix still retries is held with
// Postfix's own address as the client and without the user (its sender in own_domains
// still gets the notice).
type filtered struct {
	mu sync.Mutex
	m  map[string]filteredInfo
}

type filteredInfo struct {
	authUser, clientAddr string
	at                   time.Time
}

// Postfix retries a deferred message for days (maximal_queue_lifetime, 5 days by default).
const (
	filteredKeep = 5 * 24 * time.Hour
	filteredMax  = 100_000
)

func (f *filtered) put(queueID, authUser, clientAddr string, now time.Time) {
	if queueID == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]filteredInfo{}
	}
	if len(f.m) >= filteredMax {
		for k, v := range f.m {
			if now.Sub(v.at) > filteredKeep || len(f.m) >= filteredMax {
				delete(f.m, k)
			}
		}
	}
	f.m[queueID] = filteredInfo{authUser: authUser, clientAddr: clientAddr, at: now}
}

func (f *filtered) get(queueID string, now time.Time) (filteredInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	info, ok := f.m[queueID]
	if ok && now.Sub(info.at) > filteredKeep {
		delete(f.m, queueID)
		return filteredInfo{}, false
	}
	return info, ok
}

// postfixID finds the queue ID in the Received field Postfix's smtpd added
// ("by mx.example.org (Postfix) with ESMTPSA id 4XyZ1abc").
var postfixID = regexp.MustCompile(`\(Postfix\)\s+with\s+\S+\s+id\s+([0-9A-Za-z]+)`)

// intakeHolder holds what the intake takes in, with the user, the client and the queue ID
// the policy service saw for it.
type intakeHolder struct {
	next held.Holder
	memo *filtered
}

func (h intakeHolder) Hold(ctx context.Context, sub held.Submission) (string, error) {
	head := sub.Content
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i]
	}
	if id := postfixID.FindSubmatch(head); id != nil {
		if info, ok := h.memo.get(string(id[1]), time.Now()); ok {
			sub.QueueID, sub.AuthUser, sub.ClientAddr = string(id[1]), info.authUser, info.clientAddr
		}
	}
	return h.next.Hold(ctx, sub)
}
