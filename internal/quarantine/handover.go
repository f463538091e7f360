package quarantine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rcptguard/rcptguard/internal/verdict"
)

// Handover is what the policy service knew of a message it answered FILTER for, kept
// until the quarantine intake, to which Postfix delivers the message once it is queued,
// holds it: the intake sees only what Postfix hands it (its own connection, no SASL user),
// and the guard may have been reloaded meanwhile. It is stored in the quarantine's
// database, so a restart of rcptguard between the two loses nothing.
type Handover struct {
	QueueID    string // Postfix's queue ID: the key, found again in Postfix's Received field
	Sender     string
	AuthUser   string
	ClientAddr string
	// Recipients are the policy service's decisions, in the order it saw them.
	Recipients []Recipient
	At         time.Time // when the policy service answered FILTER
}

// HandoverKeep is how long a hand-over is kept when nothing takes it: Postfix's
// maximal_queue_lifetime (5 days by default), after which Postfix gives up the message.
const HandoverKeep = 5 * 24 * time.Hour

// HandoverStore keeps hand-overs. Both stores implement it, in the quarantine's database.
type HandoverStore interface {
	// PutHandover records h (QueueID required; At defaults to now), replacing a hand-over
	// of the same queue ID (Postfix reuses short queue IDs once a message has left).
	// It returns only once the record is durable.
	PutHandover(ctx context.Context, h Handover) error
	// GetHandover returns the hand-over of queueID, or ErrNotFound.
	GetHandover(ctx context.Context, queueID string) (Handover, error)
	// DeleteHandover removes the hand-over of queueID, if any.
	DeleteHandover(ctx context.Context, queueID string) error
	// PurgeHandovers deletes the hand-overs recorded before before, and returns how many.
	PurgeHandovers(ctx context.Context, before time.Time) (int64, error)
}

// errNoQueueID: a hand-over needs its key.
var errNoQueueID = errors.New("quarantine: a hand-over needs a queue ID")

// handoverRecipient is a Recipient as the hand-over's JSON column keeps it.
type handoverRecipient struct {
	Address    string   `json:"address"`
	Verdict    string   `json:"verdict"` // verdict.Parse: any verdict, invalid included
	Intended   []string `json:"intended,omitempty"`
	Techniques []string `json:"techniques,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Situation  string   `json:"situation,omitempty"`
}

// handoverJSON encodes the recipients of a hand-over.
func handoverJSON(rs []Recipient) ([]byte, error) {
	out := make([]handoverRecipient, len(rs))
	for i, r := range rs {
		out[i] = handoverRecipient{Address: r.Address, Verdict: r.Verdict.String(), Intended: r.Intended,
			Techniques: r.Techniques, Reason: r.Reason, Situation: r.Situation}
	}
	return json.Marshal(out)
}

// handoverRecipients decodes what handoverJSON encoded; a verdict that does not exist is
// an error.
func handoverRecipients(b []byte) ([]Recipient, error) {
	var in []handoverRecipient
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("quarantine: hand-over recipients: %w", err)
	}
	out := make([]Recipient, len(in))
	for i, r := range in {
		v, err := verdict.Parse(r.Verdict)
		if err != nil {
			return nil, fmt.Errorf("quarantine: hand-over recipient %q: %w", r.Address, err)
		}
		out[i] = Recipient{Address: r.Address, Verdict: v, Intended: r.Intended, Techniques: r.Techniques,
			Reason: r.Reason, Situation: r.Situation}
	}
	return out, nil
}

// prepareHandover checks h and fills in its time; it returns the recipients' JSON.
func prepareHandover(h *Handover, now time.Time) ([]byte, error) {
	if h.QueueID == "" {
		return nil, errNoQueueID
	}
	if h.At.IsZero() {
		h.At = now
	}
	return handoverJSON(h.Recipients)
}

// handoverColumns are the columns scanHandover reads, in its order.
const handoverColumns = `at, sender, auth_user, client_addr, recipients`

// scanHandover reads the hand-over of queueID from row (either store's): ErrNotFound
// when there is none.
func scanHandover(row interface{ Scan(...any) error }, queueID string) (Handover, error) {
	h := Handover{QueueID: queueID}
	var at int64
	var rcpts string
	err := row.Scan(&at, &h.Sender, &h.AuthUser, &h.ClientAddr, &rcpts)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return Handover{}, fmt.Errorf("%w: hand-over %s", ErrNotFound, queueID)
	}
	if err != nil {
		return Handover{}, fmt.Errorf("quarantine: read the hand-over of %s: %w", queueID, err)
	}
	h.At = fromMicro(at)
	h.Recipients, err = handoverRecipients([]byte(rcpts))
	return h, err
}

// upsertHandover is the statement that records a hand-over, with the store's six
// placeholders (values).
func upsertHandover(values string) string {
	return `INSERT INTO handovers (queue_id, at, sender, auth_user, client_addr, recipients) VALUES (` + values + `)
		ON CONFLICT (queue_id) DO UPDATE SET at = excluded.at, sender = excluded.sender, auth_user = excluded.auth_user,
		client_addr = excluded.client_addr, recipients = excluded.recipients`
}
