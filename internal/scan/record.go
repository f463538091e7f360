// Package scan answers the two questions an administrator asks before enforcing: what has
// already gone to lookalike domains, from whom, since when; and how many senders a day
// would be asked if enforcement were on. It reads mail logs, exports and archives as
// streams of Records (one Reader per Format), decides each distinct recipient domain once
// with the same guard as `rcptguard serve`, and builds the report.
package scan

import (
	"io"
	"time"
)

// Outcome is what became of one message to one recipient, as the source tells it.
type Outcome uint8

// The outcomes.
const (
	// Unknown: the source does not say (archives, forwards, a queue ID never closed).
	Unknown Outcome = iota
	// Sent: the remote server accepted it: the mail left the organisation.
	Sent
	// Bounced: refused for good (or returned).
	Bounced
	// Deferred: refused for now; the last word the source has.
	Deferred
	// Expired: given up after the queue lifetime.
	Expired
)

var outcomeNames = [...]string{"unknown", "sent", "bounced", "deferred", "expired"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Record is one message to one recipient, as a source tells it.
type Record struct {
	Time      time.Time // zero when the source does not say
	Sender    string    // the envelope sender (or From:), "" when unknown or null
	Recipient string    // the recipient's address as the source wrote it
	// OrigRecipient is the address the sender wrote when the source says it was rewritten
	// (an alias, a virtual map, a .forward: Postfix's orig_to=) to Recipient; "" otherwise.
	OrigRecipient string
	Outcome       Outcome
	Relay         string // the remote host it went to, when the source says
	Reply         string // the remote's reply, when the source says
	// Message identifies the message within the source (a queue ID, a Message-ID, a file
	// name), so that the report counts messages, not recipients; "" when unknown.
	Message string
	Source  string // the source's name (a file, "-" for standard input)
	Line    int64  // where in the source it was read (1-based; 0 when not line-based)
	// Content is what the message carries, when it was classified (a flagged message of
	// a mail archive, content checks on); nil otherwise. A message's records share it.
	Content *Content
}

// Problem is a piece of a source that was skipped: the report lists them.
type Problem struct {
	Source string
	Line   int64
	Text   string // what was wrong, for a person
}

// Reader turns one source's (decompressed) bytes into Records. Read reads r until its
// end, calling emit for every record and skip for every piece it cannot read (the rest of
// the source is still read); it returns an error only for what ends the source (a read
// error, a truncated compressed stream).
type Reader interface {
	Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error
}

// Format is a kind of source.
type Format struct {
	// Name is the format's name in messages and in --format-of ("postfix", "exim",
	// "sendmail", "m365", "exchange", "workspace", "mbox", "eml").
	Name string
	// Detect reports whether a source that begins with head (its first 64 KiB,
	// decompressed) is of this format: by content, never by file name.
	Detect func(head []byte) bool
	// New returns a Reader for one source.
	New func() Reader
	// Dir, when set, reads a directory source (a Maildir, a folder of .eml files): the
	// format then claims directories, and Detect and New are for single files only. It
	// returns the error that ended the directory, as Reader.Read does.
	Dir func(path string, emit func(Record), skip func(Problem)) error
	// DetectDir, when set, reports whether a directory is of this format (a Maildir has
	// cur/new/tmp). A directory goes to the first format whose DetectDir says yes, else
	// to the first format with a Dir and no DetectDir.
	DetectDir func(path string) bool
	// dirContent, when set, is Dir classifying the flagged messages (mail archives).
	dirContent func(path string, ch *contentHook, emit func(Record), skip func(Problem)) error
}

// contentReader is a Reader of a mail archive that can classify the flagged messages it
// reads.
type contentReader interface {
	withContent(*contentHook) Reader
}
