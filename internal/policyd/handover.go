package policyd

import (
	"context"
	"errors"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// Handovers records what the policy service decided about a message it answers FILTER
// for, for the quarantine intake that Postfix hands the message to (quarantine's
// HandoverStore: the record survives a restart of rcptguard).
type Handovers interface {
	PutHandover(ctx context.Context, h quarantine.Handover) error
}

// HandoverTimeout bounds the recording of one hand-over: well within the timeout Postfix
// gives the policy service (timeout=5s in the recommended settings).
const HandoverTimeout = 3 * time.Second

// handoverFailed answers END-OF-MESSAGE when the hand-over cannot be recorded: the
// message is not filtered without one, nor let through; the client keeps it.
var handoverFailed = guard.Reply{Code: 451, Enhanced: "4.3.0",
	Text: "rcptguard cannot hand this message to its quarantine now; please try again later"}

var errNoQueueID = errors.New("policyd: END-OF-MESSAGE without a queue_id: nothing to key the hand-over by")

// handOver records the hand-over of the message of req with the decisions ds.
func (s *Server) handOver(req Request, ds []guard.Decision) error {
	if req.QueueID() == "" {
		return errNoQueueID
	}
	ctx, cancel := context.WithTimeout(context.Background(), HandoverTimeout)
	defer cancel()
	return s.Handovers.PutHandover(ctx, quarantine.Handover{
		QueueID: req.QueueID(), Sender: req.Sender(), AuthUser: req.SASLUsername(), ClientAddr: req.ClientAddress(),
		Recipients: held.RecipientsFrom(ds),
	})
}
