package milter

import (
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

func TestLongHoldReplyKeepsItsRequest(t *testing.T) {
	t.Parallel()
	r := replyFor(guard.Hold, strings.Repeat("bob@army.ml: Did you mean army.mil? ", 100))
	if len(r.Text) > maxText || !strings.HasSuffix(r.Text, "... Please check the recipients and send again.") {
		t.Fatalf("reply text (%d bytes) = %q", len(r.Text), r.Text)
	}
}

func TestClipKeepsCharacters(t *testing.T) {
	t.Parallel()
	if got := smtptext.Clip("ab€cd", 6); got != "ab..." {
		t.Errorf("clip = %q", got)
	}
	if got := smtptext.Clip("abc", 3); got != "abc" {
		t.Errorf("clip = %q", got)
	}
}

// TestEveryActionHasAnOutcome: the check state the daemon learns from says what became of
// every message, whatever the action.
func TestEveryActionHasAnOutcome(t *testing.T) {
	for _, a := range []Action{ActionAccept, ActionWarn, ActionQuarantine, ActionHold, ActionReject, ActionTempFail} {
		if (Event{Stage: StageEOM, Action: a}).transaction().Outcome == 0 {
			t.Errorf("action %s has no outcome", a)
		}
	}
	if o := (Event{Action: ActionWarn}).transaction().Outcome; o != guard.Delivered {
		t.Errorf("a warned message is %s, want delivered", o)
	}
}
