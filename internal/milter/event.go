package milter

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// Stage is the milter stage at which a decision was made.
type Stage string

// The stages at which the adapter decides.
const (
	StageMail Stage = "mail" // only temporary errors: no guard, shutting down
	StageRcpt Stage = "rcpt" // a recipient refused at RCPT
	StageEOM  Stage = "eom"  // the whole message, at end of message
)

// Action is what the adapter told the MTA.
type Action string

// The actions.
const (
	ActionAccept     Action = "accept"
	ActionWarn       Action = "warn"       // accepted with the warning headers
	ActionQuarantine Action = "quarantine" // accepted into the MTA's own quarantine
	ActionHold       Action = "hold"       // held in rcptguard's quarantine, discarded by the MTA
	ActionReject     Action = "reject"
	ActionTempFail   Action = "tempfail"
)

// Event describes one decision, for metrics and tests.
type Event struct {
	Stage      Stage
	QueueID    string   // the MTA's queue id, when it has one yet
	Sender     string   // MAIL FROM
	AuthUser   string   // at end of message: the SASL user, if the client authenticated
	ClientAddr string   // at end of message: the client's address, as the MTA gave it
	Recipients []string // the recipient refused at RCPT, or the message's accepted ones
	NonSMTP    bool     // submitted without SMTP (see the package documentation)
	// Verdict is the guard's, before monitor mode; Monitor says it was only recorded.
	Verdict guard.Verdict
	Monitor bool
	// Decisions are the guard's, one per recipient in Recipients.
	Decisions []guard.Decision
	// Content are the content categories the message carries (names only, never the
	// text), when content rules are on; ContentSkipped says it was over the limits.
	Content        []string
	ContentSkipped bool
	Action         Action
	HeldID         string        // the quarantine's ID of the held message (ActionHold)
	Reply          guard.Reply   // the refusal sent (reject, tempfail); zero otherwise
	Err            error         // why a temporary error was sent, if it was
	Duration       time.Duration // from the callback's start to the answer decided
}

// record logs ev as one line and passes it to Observe.
func (s *Server) record(ev Event) {
	lvl := slog.LevelInfo
	switch {
	case ev.Action == ActionTempFail:
		lvl = slog.LevelWarn
	case ev.Verdict == guard.Allow:
		lvl = slog.LevelDebug
	}
	ctx := context.Background()
	if s.log.Enabled(ctx, lvl) {
		var flagged, techniques, intended []string
		for _, d := range ev.Decisions {
			if d.Verdict == guard.Allow {
				continue
			}
			flagged = append(flagged, d.Input)
			for _, t := range d.Techniques() {
				techniques = appendNew(techniques, t.String())
			}
			for _, i := range d.Intended() {
				intended = appendNew(intended, i)
			}
		}
		attrs := []slog.Attr{
			slog.String("stage", string(ev.Stage)), slog.String("queue_id", ev.QueueID),
			slog.String("sender", ev.Sender), slog.Any("recipients", ev.Recipients),
			slog.Any("flagged", flagged), slog.String("verdict", ev.Verdict.String()),
			slog.Bool("monitor", ev.Monitor), slog.Any("techniques", techniques),
			slog.Any("intended", intended), slog.Bool("non_smtp", ev.NonSMTP),
			slog.String("action", string(ev.Action)),
		}
		if len(ev.Content) > 0 || ev.ContentSkipped {
			attrs = append(attrs, slog.Any("content", ev.Content), slog.Bool("content_skipped", ev.ContentSkipped))
		}
		if ev.HeldID != "" {
			attrs = append(attrs, slog.String("held_id", ev.HeldID))
		}
		if ev.Reply.Code != 0 {
			attrs = append(attrs, slog.Int("code", ev.Reply.Code))
		}
		if ev.Err != nil {
			attrs = append(attrs, slog.String("error", ev.Err.Error()))
		}
		s.log.LogAttrs(ctx, lvl, "milter decision", attrs...)
	}
	if s.Observe != nil {
		s.Observe(ev)
	}
	if ev.Stage == StageEOM && s.Finished != nil {
		s.Finished(ev.transaction())
	}
}

// transaction is the check state of the message that ev, at its end, decided.
func (ev Event) transaction() guard.Transaction {
	return guard.Transaction{Adapter: Adapter, QueueID: ev.QueueID, Sender: ev.Sender, AuthUser: ev.AuthUser,
		ClientAddr: ev.ClientAddr, Recipients: ev.Decisions, HeldID: ev.HeldID, Outcome: outcomes[ev.Action]}
}

// outcomes are what each end-of-message action means for the message.
var outcomes = map[Action]guard.Outcome{
	ActionAccept: guard.Delivered, ActionWarn: guard.Delivered,
	ActionHold: guard.Held, ActionQuarantine: guard.Held,
	ActionReject: guard.Refused, ActionTempFail: guard.TempFailed,
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
