// Package config owns rcptguard's YAML configuration file: its format, strict parsing,
// defaults and validation.
//
// Parsing is strict: an unknown key, a value of the wrong type, an invalid domain or an
// unknown verdict is an error that starts with the file name and the line ("rcptguard.yaml:7:
// unknown key \"polcy\""). A missing key takes its default; an empty file is the defaults.
//
// The package only describes what the administrator asked for. It does not read the
// known-correspondents file (see package knownfile), build detection engines or open
// listeners.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/safefile"
)

// MaxFileSize bounds a config file; anything larger is refused rather than parsed.
const MaxFileSize = 1 << 20

// Config is one parsed configuration.
type Config struct {
	// OwnDomains are the organisation's own mail domains. They are protected too. They are
	// mail domains, never namespaces.
	OwnDomains []Entry
	// Protect lists domains and namespaces whose lookalikes must not receive mail.
	Protect []Entry
	// Allow lists domains and namespaces that are never flagged; it overrides Block.
	Allow []Entry
	// Block lists domains and namespaces that are refused.
	Block []Entry
	// KnownFile is the known-correspondents file ("DOMAIN [COUNT]" lines), resolved against
	// the config file's folder; "" for none.
	KnownFile string
	// Providers enables the built-in list of major mailbox providers.
	Providers bool
	// Policy maps each situation to a verdict.
	Policy Policy
	// Listen, Relay and DataDir configure `rcptguard serve`. Where DataDir is by default,
	// and what a relative one is relative to, is the rule at PackagedDataDir.
	Listen  Listen
	Relay   Relay
	DataDir string
	// Quarantine, Notice and Admin configure held mail, the sender's notice and the
	// administrators' pages.
	Quarantine Quarantine
	Notice     Notice
	Admin      Admin
	// Limits bounds connections, memory and disk use.
	Limits Limits
	// Learning configures the senders' own histories.
	Learning Learning
	// DNS configures live evidence (dns.go).
	DNS DNS
	// Content configures content rules (content.go).
	Content Content
	// Path is the file the config came from, "" when built in.
	Path string
}

// Policy maps each situation the engine reports to a verdict (protected, provider, known,
// namespace, blocked) and has the monitor switch. It is the guard's own type.
type Policy = guard.Policy

// Default is the configuration used when there is no file, and the base that a file
// overrides key by key.
func Default() Config {
	c := Config{
		Providers: true,
		Policy:    guard.DefaultPolicy(),
	}
	defaultServe(&c)
	defaultLearning(&c)
	defaultDNS(&c)
	defaultContent(&c)
	return c
}

// Load reads and parses the config file at path.
func Load(path string) (Config, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return Config{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Config{}, &Error{Path: path, Msg: err.Error(), Err: err}
	}
	return Parse(data, path)
}

// Parse parses a config file's contents. path names the file in error messages and is the
// base for a relative known_file; it is stored in Config.Path. The result passes Validate.
// When there are several problems, the error joins them (errors.Join), one per line, in
// the order of the file.
func Parse(data []byte, path string) (Config, error) {
	if len(data) > MaxFileSize {
		return Config{}, &Error{Path: path, Msg: fmt.Sprintf("file is larger than %d bytes (1 MiB)", MaxFileSize)}
	}
	if e := checkText(data); e != nil {
		e.Path = path
		return Config{}, e
	}
	c := Default()
	c.Path = path

	dec := yamlDecoder(data)
	var raw rawFile
	err := dec.Decode(&raw)
	if errors.Is(err, io.EOF) { // no document at all: the defaults of a config file
		if path != "" {
			c.DataDir = PackagedDataDir
		}
		return c, nil
	}
	var errs []*Error
	if err != nil {
		errs = yamlErrors(err, data)
	}
	if err == nil || isTypeError(err) { // the rest of the document was read: check it too
		var second yamlNode
		switch err := dec.Decode(&second); {
		case errors.Is(err, io.EOF):
		case err != nil:
			errs = yamlErrors(err, data)
		default:
			errs = append(errs, &Error{Line: second.Line, Msg: "a second YAML document starts here; the config is a single document"})
		}
		errs = append(errs, raw.apply(&c)...)
		sortErrors(errs)
	}
	if len(errs) == 0 {
		paths := []*string{&c.KnownFile, &c.Relay.TLSCert, &c.Relay.TLSKey, &c.DataDir}
		for _, d := range []*Destination{&c.Quarantine.Reinject, &c.Notice.Smarthost, &c.Relay.Upstream} {
			paths = append(paths, &d.CAFile, &d.PasswordFile)
		}
		if path != "" && !present(&raw.DataDir) {
			c.DataDir = PackagedDataDir // a config file without data_dir (see PackagedDataDir)
		}
		for _, f := range paths {
			if *f != "" && path != "" && !filepath.IsAbs(*f) {
				*f = filepath.Join(filepath.Dir(path), *f)
			}
		}
		if err := c.Validate(); err != nil {
			return Config{}, err
		}
		return c, nil
	}
	return Config{}, joinErrors(path, errs)
}

// maxErrors bounds how many problems one Parse reports.
const maxErrors = 20

func joinErrors(path string, errs []*Error) error {
	if len(errs) > maxErrors {
		errs = append(errs[:maxErrors:maxErrors], &Error{Line: errs[maxErrors].Line, Msg: fmt.Sprintf("and %d more problems", len(errs)-maxErrors)})
	}
	if len(errs) == 1 {
		errs[0].Path = path
		return errs[0]
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		e.Path = path
		list[i] = e
	}
	return errors.Join(list...)
}

// Error is one problem in a config, at a line when it is known.
type Error struct {
	Path string // the file, "" when there is none (built in, or a command-line list)
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong
	Err  error  // the cause, for errors.Is (an address error wraps address.ErrInvalid); may be nil
}

func (e *Error) Error() string {
	switch {
	case e.Path != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// checkText rejects what YAML cannot hold, with the line, before the YAML parser reports it
// without one: invalid UTF-8 and characters outside YAML's printable set (YAML 1.2, 5.1).
func checkText(data []byte) *Error {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == '\n':
			line++
		case r == utf8.RuneError && size <= 1:
			return &Error{Line: line, Msg: "invalid UTF-8; the config must be UTF-8 text"}
		case !printable(r):
			return &Error{Line: line, Msg: fmt.Sprintf("character U+%04X is not allowed in YAML", r)}
		}
		data = data[size:]
	}
	return nil
}

func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r < 0x20 || r == 0x7f:
		return false
	case r >= 0x80 && r < 0xa0:
		return false
	case r >= 0xd800 && r < 0xe000, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}

// lineOf is the 1-based line of byte offset i in data.
func lineOf(data []byte, i int) int { return bytes.Count(data[:i], []byte{'\n'}) + 1 }
