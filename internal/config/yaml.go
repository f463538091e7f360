package config

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/rcptguard/rcptguard/internal/guard"
)

type yamlNode = yaml.Node

// rawFile is the file's shape. Each value is kept as a node, so that it is checked knowing
// its key and line; yaml.v3 itself rejects unknown and duplicate keys (KnownFields).
// A key that is absent, or present with an empty value, keeps its default.
type rawFile struct {
	OwnDomains yaml.Node     `yaml:"own_domains"`
	Protect    yaml.Node     `yaml:"protect"`
	Allow      yaml.Node     `yaml:"allow"`
	Block      yaml.Node     `yaml:"block"`
	KnownFile  yaml.Node     `yaml:"known_file"`
	Providers  yaml.Node     `yaml:"providers"`
	Policy     rawPolicy     `yaml:"policy"`
	Listen     rawListen     `yaml:"listen"`
	Relay      rawRelay      `yaml:"relay"`
	DataDir    yaml.Node     `yaml:"data_dir"`
	Quarantine rawQuarantine `yaml:"quarantine"`
	Notice     rawNotice     `yaml:"notice"`
	Admin      rawAdmin      `yaml:"admin"`
	Limits     rawLimits     `yaml:"limits"`
	Learning   rawLearning   `yaml:"learning"`
	DNS        rawDNS        `yaml:"dns"`
	Content    rawContent    `yaml:"content"`
}

type rawPolicy struct {
	Protected   yaml.Node `yaml:"protected"`
	Provider    yaml.Node `yaml:"provider"`
	Known       yaml.Node `yaml:"known"`
	Namespace   yaml.Node `yaml:"namespace"`
	Blocked     yaml.Node `yaml:"blocked"`
	Nonexistent yaml.Node `yaml:"nonexistent"`
	MixedScript yaml.Node `yaml:"mixed_script"`
	Monitor     yaml.Node `yaml:"monitor"`
	// DNS evidence (dns.go).
	RegisteredLookalike yaml.Node `yaml:"registered_lookalike"`
	ChangedOwner        yaml.Node `yaml:"changed_owner"`
	Undeliverable       yaml.Node `yaml:"undeliverable"`
}

// The keys, for suggestions after a typo.
var (
	topKeys    = []string{"own_domains", "protect", "allow", "block", "known_file", "providers", "policy", "listen", "relay", "data_dir", "quarantine", "notice", "admin", "limits", "learning", "dns"}
	policyKeys = []string{"protected", "provider", "known", "namespace", "blocked", "nonexistent", "mixed_script", "monitor", "registered_lookalike", "changed_owner", "undeliverable"}
)

func yamlDecoder(data []byte) *yaml.Decoder {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec
}

// apply checks every value of r and stores it in c, returning the problems in file order.
func (r *rawFile) apply(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	list := func(key string, n *yaml.Node, dst *[]Entry) {
		entries, es := entryList(key, n)
		errs = append(errs, es...)
		if len(es) == 0 && present(n) {
			*dst = entries
		}
	}
	list("own_domains", &r.OwnDomains, &c.OwnDomains)
	list("protect", &r.Protect, &c.Protect)
	list("allow", &r.Allow, &c.Allow)
	list("block", &r.Block, &c.Block)
	add(text("known_file", &r.KnownFile, &c.KnownFile))
	add(boolean("providers", &r.Providers, &c.Providers))
	p := &r.Policy
	add(verdict("policy.protected", &p.Protected, &c.Policy.Protected))
	add(verdict("policy.provider", &p.Provider, &c.Policy.Provider))
	add(verdict("policy.known", &p.Known, &c.Policy.Known))
	add(verdict("policy.namespace", &p.Namespace, &c.Policy.Namespace))
	add(verdict("policy.nonexistent", &p.Nonexistent, &c.Policy.Nonexistent))
	add(verdict("policy.mixed_script", &p.MixedScript, &c.Policy.MixedScript))
	add(verdict("policy.blocked", &p.Blocked, &c.Policy.Blocked))
	add(boolean("policy.monitor", &p.Monitor, &c.Policy.Monitor))
	errs = append(errs, r.applyServe(c)...)
	errs = append(errs, r.applyQuarantine(c)...)
	errs = append(errs, r.applyLimits(c)...)
	errs = append(errs, r.applyLearning(c)...)
	errs = append(errs, r.applyDNS(c)...)
	errs = append(errs, r.applyContent(c)...)
	if present(&p.Blocked) && c.Policy.Blocked == guard.Allow {
		add(&Error{Line: p.Blocked.Line, Msg: "policy.blocked may not be allow; to let blocked mail pass, remove it from block or add it to allow"})
	}
	return errs
}

func sortErrors(errs []*Error) {
	for i := 1; i < len(errs); i++ { // insertion sort: few, nearly sorted
		for j := i; j > 0 && errs[j].Line < errs[j-1].Line; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; i < 8 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

// present reports whether the key was given with a value (not absent, not empty or ~).
func present(n *yaml.Node) bool {
	return n.Kind != 0 && resolve(n).ShortTag() != "!!null"
}

func entryList(key string, n *yaml.Node) ([]Entry, []*Error) {
	if !present(n) {
		return nil, nil
	}
	line := n.Line
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, []*Error{{Line: line, Msg: fmt.Sprintf("%s: want a list such as [army.mil, .mil], got %s", key, describe(n))}}
	}
	var entries []Entry
	var errs []*Error
	for _, item := range n.Content {
		e, err := entryFromNode(item)
		if err != nil {
			err.Msg = key + ": " + err.Msg
			errs = append(errs, err)
			continue
		}
		entries = append(entries, e)
	}
	return dedupe(entries), errs
}

func text(key string, n *yaml.Node, dst *string) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.ScalarNode {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want a file name, got %s", key, describe(n))}
	}
	*dst = n.Value
	return nil
}

func boolean(key string, n *yaml.Node, dst *bool) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	var b bool
	if n = resolve(n); n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want true or false, got %s", key, describe(n))}
	}
	*dst = b
	return nil
}

func verdict(key string, n *yaml.Node, dst *guard.Verdict) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	if n = resolve(n); n.Kind != yaml.ScalarNode {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want allow, warn, hold or reject, got %s", key, describe(n))}
	}
	v, err := guard.ParseVerdict(n.Value)
	if err != nil {
		return &Error{Line: line, Msg: key + ": " + err.Error(), Err: err}
	}
	*dst = v
	return nil
}

// describe names a value for "got ..." in a message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing"
	case "!!str":
		return strconv.Quote(shorten(n.Value))
	}
	return shorten(n.Value)
}

func shorten(s string) string {
	if len(s) <= 60 {
		return s
	}
	return s[:57] + "..."
}
