package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// IsMaildir reports whether path is a Maildir: a folder with cur and new folders in it.
func IsMaildir(path string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(path, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// ReadMaildir reads a Maildir: the messages in cur and new, one per file, in name order,
// then its Maildir++ folders (".Sent", ".Archive.2019", each a Maildir of its own). Files
// in tmp are deliveries not finished (or abandoned) and are not read. A message is named by
// its Message-ID, else its file name; a file that cannot be read is a Problem. The error
// is only for path not being a readable Maildir.
func ReadMaildir(path string, emit func(Record), skip func(Problem)) error {
	return readMaildir(path, nil, emit, skip)
}

// readMaildir is ReadMaildir classifying the flagged messages with ch (when not nil).
func readMaildir(path string, ch *contentHook, emit func(Record), skip func(Problem)) error {
	if !IsMaildir(path) {
		if _, err := os.Stat(path); err != nil {
			return err
		}
		return fmt.Errorf("%s: not a Maildir (no cur and new folders in it)", path)
	}
	readMaildirFolder(path, ch, emit, skip)
	es, err := sortedNames(path)
	if err != nil {
		skip(Problem{Source: path, Text: "not readable: " + err.Error()})
	}
	for _, e := range es {
		sub := filepath.Join(path, e.Name())
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && e.Name() != "." && e.Name() != ".." && IsMaildir(sub) {
			readMaildirFolder(sub, ch, emit, skip)
		}
	}
	return nil
}

// readMaildirFolder reads the cur and new folders of one Maildir.
func readMaildirFolder(path string, ch *contentHook, emit func(Record), skip func(Problem)) {
	for _, sub := range []string{"cur", "new"} {
		dir := filepath.Join(path, sub)
		es, err := sortedNames(dir)
		if err != nil {
			skip(Problem{Source: dir, Text: "not readable: " + err.Error()})
		}
		for _, e := range es {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			readMessageFile(filepath.Join(dir, e.Name()), false, ch, emit, skip)
		}
	}
}
