package scan

// The registry of formats. A reader adds its format with one line in its file:
//
//	func init() { Register(Format{Name: "postfix", Detect: detectPostfix, New: newPostfix}) }
//
// Detection asks the formats in registration order (within the package, the order of the
// files' names) and takes the first whose Detect says yes, so Detect must be specific:
// true only for content no other format also writes. A directory source goes to the
// first format with a Dir that claims it.

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

var registry struct {
	sync.RWMutex
	formats []Format
}

// Register adds a format. It panics on a name already taken or a format that reads
// nothing, which is a programming error found at start-up.
func Register(f Format) {
	registry.Lock()
	defer registry.Unlock()
	if f.Name == "" || (f.Detect == nil || f.New == nil) && f.Dir == nil {
		panic("scan: Register: a format needs a name and Detect+New or Dir")
	}
	for _, g := range registry.formats {
		if g.Name == f.Name {
			panic(fmt.Sprintf("scan: Register: format %q registered twice", f.Name))
		}
	}
	registry.formats = append(registry.formats, f)
}

// Formats lists the registered formats, in registration order.
func Formats() []Format {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Clone(registry.formats)
}

// FormatNames lists the registered formats' names, for messages.
func FormatNames() string {
	var names []string
	for _, f := range Formats() {
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		return "(no format is built in)"
	}
	return strings.Join(names, ", ")
}

// Detect returns the first format that recognises head.
func Detect(head []byte) (Format, bool) {
	for _, f := range Formats() {
		if f.Detect != nil && f.Detect(head) {
			return f, true
		}
	}
	return Format{}, false
}
