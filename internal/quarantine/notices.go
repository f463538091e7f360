package quarantine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Every mail rcptguard sends to a sender about a held message is a notice of one kind,
// and each kind goes out at most once, whatever fails:
//
//  1. ClaimNotice records, in one statement, that an attempt is being made (the claim,
//     with the attempt's number) and only if the notice is due and not claimed already.
//     If it fails, nothing is sent.
//  2. The notice is sent.
//  3. SettleNotice records the outcome and ends the claim: sent, failed for good, or
//     pending again from a retry time.
//
// A claim that is never settled (rcptguard stopped between 1 and 3, or could not write
// the outcome) keeps the notice from being claimed again: its outcome is unknown, and
// rcptguard prefers a sender missing a notice to a sender getting it twice. The message
// reads such a notice as NoticeSending; RecoverNotices notes the claims left so in their
// error text, for administrators.

// NoticeKind is a kind of notice to the sender.
type NoticeKind string

const (
	// NoticeFirst is the notice sent when the message is held (Message.Notice).
	NoticeFirst NoticeKind = "notice"
	// NoticeReminder is the reminder before expiry (Message.Reminder, ReminderSent).
	NoticeReminder NoticeKind = "reminder"
	// NoticeReturn is the expired message returned to its sender (Message.Return).
	NoticeReturn NoticeKind = "return"
)

// NoticeSend is where one kind of notice about a message is.
type NoticeSend struct {
	// State is NoticeNone (not due yet, or not to be sent), NoticePending, NoticeSending
	// (claimed), NoticeSent or NoticeFailed.
	State    Notice
	Error    string    // the last failure
	Next     time.Time // not claimed before this time (a retry after a failure)
	Attempts int       // claimed attempts
	Claimed  time.Time // when the attempt under way was claimed; zero: none
}

// ErrNoticeState is wrapped by the error of ClaimNotice for a notice that is not due
// (already claimed or sent, not to be sent, or due later) and of SettleNotice for a
// notice that is not claimed.
var ErrNoticeState = errors.New("quarantine: the notice is not in the expected state")

// unknownNoticeNote is the error text RecoverNotices gives a claim left unsettled.
const unknownNoticeNote = "outcome unknown: claimed but never recorded as sent or failed " +
	"(rcptguard stopped, or could not write the quarantine); not sent again by itself"

// noticeColumns are the columns of one kind of notice in the messages table, and the
// condition (SQL, no placeholders) under which it may be claimed, besides its claim and
// retry time.
type noticeColumns struct {
	state, errText, next, attempts, claimed string
	sentAt                                  string // set to the time when sent; "" if none
	due                                     string
}

var noticeCols = map[NoticeKind]noticeColumns{
	NoticeFirst: {state: "notice", errText: "notice_error", next: "notice_next", attempts: "notice_attempts",
		claimed: "notice_claimed", due: `state = 'held' AND notice = 'pending'`},
	NoticeReminder: {state: "reminder_state", errText: "reminder_error", next: "reminder_next",
		attempts: "reminder_attempts", claimed: "reminder_claimed", sentAt: "reminder_sent",
		due: `state = 'held' AND notice = 'sent' AND reminder_sent = 0 AND reminder_state IN ('', 'pending')`},
	NoticeReturn: {state: "return_state", errText: "return_error", next: "return_next", attempts: "return_attempts",
		claimed: "return_claimed", due: `state = 'expired' AND return_state = 'pending'`},
}

// noticeKinds are the kinds in a fixed order.
var noticeKinds = []NoticeKind{NoticeFirst, NoticeReminder, NoticeReturn}

func columnsOf(kind NoticeKind) (noticeColumns, error) {
	c, ok := noticeCols[kind]
	if !ok {
		return noticeColumns{}, fmt.Errorf("quarantine: unknown notice kind %q", kind)
	}
	return c, nil
}

// The queries below are written with ? placeholders; numbered turns them into
// PostgreSQL's.

// claimSQL claims a due notice; its arguments are the claim time, the ID and the time
// again. It returns the attempt's number.
func claimSQL(c noticeColumns) string {
	return `UPDATE messages SET ` + c.claimed + ` = ?, ` + c.attempts + ` = ` + c.attempts + ` + 1
		WHERE id = ? AND ` + c.claimed + ` = 0 AND ` + c.next + ` <= ? AND ` + c.due + `
		RETURNING ` + c.attempts
}

// settleSQL records the outcome n of a claimed notice and ends the claim, with its
// arguments.
func settleSQL(c noticeColumns, id string, n Notice, errText string, retryAt, now time.Time) (string, []any, error) {
	switch {
	case n == NoticeSent, n == NoticeFailed:
		retryAt = time.Time{}
	case n == NoticePending && !retryAt.IsZero():
	default:
		return "", nil, fmt.Errorf("quarantine: settle a notice as %q (retry at %v)", n, retryAt)
	}
	q := `UPDATE messages SET ` + c.state + ` = ?, ` + c.errText + ` = ?, ` + c.next + ` = ?, ` + c.claimed + ` = 0`
	args := []any{string(n), clip(errText, 1000), optMicroOf(retryAt)}
	if c.sentAt != "" && n == NoticeSent {
		q += `, ` + c.sentAt + ` = ?`
		args = append(args, micro(now))
	}
	q += ` WHERE id = ? AND ` + c.claimed + ` <> 0`
	return q, append(args, id), nil
}

// expireReturnSQL makes the return of an expired message due at the time (first
// argument) for the ID (second).
const expireReturnSQL = `UPDATE messages SET return_state = 'pending', return_next = ? WHERE id = ?`

// pendingReturnsSQL selects the returns due at the time (first argument), at most the
// limit (second), oldest expiry first; order is appended by the dialect.
const pendingReturnsSQL = `SELECT ` + messageColumns + ` FROM messages
	WHERE state = 'expired' AND return_state = 'pending' AND return_claimed = 0 AND return_next <= ?
	ORDER BY changed_at, `

// leftClaimsSQL counts, and markLeftClaimsSQL marks, the claims of a kind made before
// a time (first argument) that are not marked yet (second: unknownNoticeNote).
func leftClaimsSQL(c noticeColumns) (count, mark string) {
	where := ` WHERE ` + c.claimed + ` <> 0 AND ` + c.claimed + ` < ? AND ` + c.errText + ` <> ?`
	return `SELECT count(*) FROM messages` + where,
		`UPDATE messages SET ` + c.errText + ` = ?` + where
}

// numbered turns the ? placeholders of q into $1, $2, ... (q has no ? in literals).
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// noticeSend is what scanning reads of one kind of notice: the stored state, with
// NoticeSending for a claimed one.
func noticeSend(state, errText string, next int64, attempts int, claimed int64) NoticeSend {
	n := NoticeSend{State: Notice(state), Error: errText, Next: optMicro(next), Attempts: attempts,
		Claimed: optMicro(claimed)}
	if claimed != 0 {
		n.State = NoticeSending
	}
	return n
}
