package guard

// Transaction is the check state of one message at one door of the mail path: who sent
// it, the guard's decision for each recipient, and what became of the message. The door
// fills it in as the message goes through and hands it, complete, to whoever observes the
// door (the daemon: the history of known correspondents learns from it), once per
// message, whatever the protocol.
type Transaction struct {
	Adapter    string // "policy", "milter", "relay", "intake"
	QueueID    string // the MTA's queue ID; the relay's transaction ID
	Sender     string
	AuthUser   string
	ClientAddr string
	// Recipients are the decisions about the recipients the message was accepted for, in
	// order (a recipient refused at RCPT is not one of them).
	Recipients []Decision
	Outcome    Outcome
	HeldID     string // the quarantine's ID, when Outcome is Held
}

// Outcome is what became of a message.
type Outcome uint8

// The outcomes.
const (
	// Delivered: the message goes to its recipients (allowed, warned, or held before and
	// confirmed by the sender).
	Delivered Outcome = iota + 1
	// Held: the quarantine has it (HeldID).
	Held
	// Refused: rcptguard refused it (or the door's upstream did).
	Refused
	// TempFailed: a temporary failure was answered; the client keeps the message.
	TempFailed
	// Abandoned: the client ended the transaction before the message was decided.
	Abandoned
)

var outcomeNames = [...]string{"", "delivered", "held", "refused", "tempfail", "abandoned"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && o > 0 {
		return outcomeNames[o]
	}
	return "unknown"
}
